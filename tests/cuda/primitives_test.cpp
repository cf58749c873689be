// The CUDA policy's primitives one by one against the CPU policy's, on plain buffers: GEMM in every transpose
// pair with leading dimensions wider than the matrices and sizes of 1, blend, MSE, the flow-matching
// interpolation, several Adam steps, channel sums, and bn_prepare in training and evaluation mode.
#include <cstdio>

#include "mirror.hpp"

using namespace unetflow;

namespace {

// The same values in host memory (for the CPU policy) and in device memory.
struct Both {
  std::vector<float> c;
  float* g = nullptr;
  Both(std::size_t n, Rng& rng, double lo = -1, double hi = 1) : c(n) {
    rng.fill_uniform(c.data(), std::ptrdiff_t(n), lo, hi);
    g = cuda::allocate<float>(std::ptrdiff_t(n));
    cuda::from_host(c.data(), g, std::ptrdiff_t(n));
  }
  Both(const Both&) = delete;
  Both& operator=(const Both&) = delete;
  ~Both() { cuda::deallocate(g); }
  std::vector<float> device() const {
    std::vector<float> h(c.size());
    cuda::to_host(g, h.data(), std::ptrdiff_t(h.size()));
    cuda::synchronize();
    return h;
  }
};

void expect_synchronised() {
  cuda::synchronize();  // a fault of an asynchronous kernel surfaces here, in the case that caused it
}

}  // namespace

TEST_CASE("gemm: every transpose pair, leading dimensions wider than the matrices, sizes of 1") {
  Rng rng(21, 1);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [M, N, K] : {std::array{1, 1, 1}, std::array{5, 7, 3}, std::array{33, 17, 65}, std::array{1, 40, 9}}) {
        const int pad = 3;
        const int rows_a = ta ? K : M, cols_a = ta ? M : K, rows_b = tb ? N : K, cols_b = tb ? K : N;
        const int lda = cols_a + pad, ldb = cols_b + pad, ldc = N + pad;
        Both a(std::size_t(rows_a * lda), rng), b(std::size_t(rows_b * ldb), rng), c(std::size_t(M * ldc), rng);
        cpu::gemm(ta, tb, M, N, K, 0.5f, a.c.data(), lda, b.c.data(), ldb, 0.25f, c.c.data(), ldc);
        cuda::gemm(ta, tb, M, N, K, 0.5f, a.g, lda, b.g, ldb, 0.25f, c.g, ldc);
        INFO("ta " << ta << " tb " << tb << " M " << M << " N " << N << " K " << K);
        EXPECT_CLOSE("gemm", c.c, c.device());  // the padding columns too: they must be left as they were
      }
  expect_synchronised();
}

TEST_CASE("blend, MSE and the flow-matching interpolation on CUDA match the CPU policy") {
  Rng rng(21, 2);
  const int n = 7;
  const std::ptrdiff_t len = 3 * 5 * 5;
  Both y(std::size_t(n * len), rng), x(std::size_t(n * len), rng);
  cpu::blend(y.c.data(), x.c.data(), n * len, 0.75f, -1.5f);
  cuda::blend(y.g, x.g, n * len, 0.75f, -1.5f);
  EXPECT_CLOSE("blend", y.c, y.device());

  Both grad_c(std::size_t(n * len), rng);
  double loss_c = 0;
  double* loss_device = cuda::allocate<double>(1);  // the loss stays in device memory (MseLoss reads it later)
  cpu::mse({x.c.data(), len}, {y.c.data(), len}, {grad_c.c.data(), len}, n, len, &loss_c);
  cuda::mse({x.g, len}, {y.g, len}, {grad_c.g, len}, n, len, loss_device);
  const double loss_g = cuda::read(loss_device);
  cuda::deallocate(loss_device);
  CHECK(std::abs(loss_c - loss_g) <= 1e-5 * std::abs(loss_c));
  EXPECT_CLOSE("mse gradient", grad_c.c, grad_c.device());

  Both t(std::size_t(n), rng, 0, 1), xt(std::size_t(n * len), rng), target(std::size_t(n * len), rng);
  cpu::interpolate({x.c.data(), len}, {y.c.data(), len}, t.c.data(), {xt.c.data(), len}, {target.c.data(), len}, n, len);
  cuda::interpolate({x.g, len}, {y.g, len}, t.g, {xt.g, len}, {target.g, len}, n, len);
  EXPECT_CLOSE("interpolate x_t", xt.c, xt.device());
  EXPECT_CLOSE("interpolate target", target.c, target.device());
  expect_synchronised();
}

TEST_CASE("five Adam steps with weight decay on CUDA match the CPU policy") {
  Rng rng(21, 3);
  const std::ptrdiff_t len = 1000;
  Both p(len, rng), m(len, rng, 0, 0), v(len, rng, 0, 0);
  for (long step = 1; step <= 5; ++step) {
    Both g(len, rng);
    cpu::adam_update(p.c.data(), g.c.data(), m.c.data(), v.c.data(), len, 1e-2, 0.9, 0.999, 1e-8, 1e-3, step);
    cuda::adam_update(p.g, g.g, m.g, v.g, len, 1e-2, 0.9, 0.999, 1e-8, 1e-3, step);
  }
  EXPECT_CLOSE("Adam parameters", p.c, p.device());
  EXPECT_CLOSE("Adam first moments", m.c, m.device());
  EXPECT_CLOSE("Adam second moments", v.c, v.device());
  expect_synchronised();
}

TEST_CASE("channel sums and bn_prepare (training and evaluation) on CUDA match the CPU policy") {
  Rng rng(21, 4);
  const int n = 6, C = 5, plane = 49;
  const std::ptrdiff_t stride = std::ptrdiff_t(C) * plane + 11;  // rows wider than a sample: a channel-slice view
  Both y(std::size_t(n * stride), rng), sums(std::size_t(C), rng);
  cpu::channel_sums({y.c.data(), stride}, n, C, plane, sums.c.data());
  cuda::channel_sums({y.g, stride}, n, C, plane, sums.g);
  EXPECT_CLOSE("channel sums (accumulated)", sums.c, sums.device());
  for (bool training : {true, false}) {
    CAPTURE(training);
    Both mean(std::size_t(C), rng), var(std::size_t(C), rng, 0.5, 2), rmean(std::size_t(C), rng), rvar(std::size_t(C), rng, 0.5, 2);
    cpu::bn_prepare(mean.c.data(), var.c.data(), rmean.c.data(), rvar.c.data(), C, double(n) * plane, 0.1, 1e-5, training);
    cuda::bn_prepare(mean.g, var.g, rmean.g, rvar.g, C, double(n) * plane, 0.1, 1e-5, training);
    EXPECT_CLOSE("bn_prepare mean", mean.c, mean.device());
    EXPECT_CLOSE("bn_prepare invstd", var.c, var.device());
    EXPECT_CLOSE("bn_prepare running mean", rmean.c, rmean.device());
    EXPECT_CLOSE("bn_prepare running var", rvar.c, rvar.device());
  }
  expect_synchronised();
}
