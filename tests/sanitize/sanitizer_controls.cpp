// Controls for the sanitizer build (sanitize_test.sh): each case commits one defect through the library's own
// allocator, and the test requires the sanitizer's report for it, so that a build that lost its instrumentation,
// or an allocator that hides overruns in padding, fails instead of passing quietly.
//   sanitizer_controls overflow|undefined|leak
#include <unetflow/unetflow.hpp>

#include <climits>
#include <cstdio>
#include <string>

using namespace unetflow;

int main(int argc, char** argv) {
  const std::string defect = argc > 1 ? argv[1] : "";
  if (defect == "overflow") {
    Tensor<Shape<1, 3, 3>, cpu> t(1);  // 9 floats: 36 bytes, inside one 64-byte line
    volatile float past_end = t.data()[9];
    std::printf("read %f past the end unnoticed\n", double(past_end));
  } else if (defect == "undefined") {
    volatile int largest = INT_MAX;
    const int sum = largest + argc;  // signed overflow
    std::printf("%d\n", sum);
  } else if (defect == "leak") {
    // Many blocks, none printed: a stale copy of one pointer on the stack cannot hide them all.
    for (int i = 0; i < 64; ++i) {
      float* lost = cpu::allocate<float>(1000);
      lost[i] = 1;
    }
  } else {
    std::fprintf(stderr, "sanitizer_controls: the argument must be overflow, undefined or leak.\n");
    return 2;
  }
  return 0;
}
