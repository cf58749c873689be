// The CPU convolution primitives against a direct double-precision loop, on the shapes that take the Winograd
// paths (3x3 'same', >= 8 channels; F(2x2) below 12x12, F(4x4) from there; sizes that fill the tiles and sizes
// that cut them; several samples per GEMM on maps of few tiles, with a remainder; 3x3 'valid' through the 'same'
// convolution's centre), the transposed-convolution
// Winograd path (the data gradient of a 4x4 stride-2 convolution between maps of 2h x 2w and h x w), the direct
// path (fewer than 4 output channels), the whole-map GEMM and im2col.
#include <doctest/doctest.h>

#include <cmath>
#include <unetflow/backend/cpu.hpp>
#include <unetflow/random.hpp>
#include <vector>

using namespace unetflow;

namespace {

struct Case {
  int n, ci, co, h, w, k, s, p;
  ConvGeom geom() const { return {ci, h, w, co, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1, k, s, p}; }
};

// y[s][o][oy][ox] = sum w[o][i][ky][kx] x[s][i][oy*s-p+ky][ox*s-p+kx]; calls f(sample, o, oy, ox, i, iy, ix, ky, kx).
template <class F>
void direct(const Case& c, F&& f) {
  const ConvGeom g = c.geom();
  for (int s = 0; s < c.n; ++s)
    for (int o = 0; o < g.co; ++o)
      for (int oy = 0; oy < g.ho; ++oy)
        for (int ox = 0; ox < g.wo; ++ox)
          for (int i = 0; i < g.ci; ++i)
            for (int ky = 0; ky < g.k; ++ky)
              for (int kx = 0; kx < g.k; ++kx) {
                const int iy = oy * g.s - g.p + ky, ix = ox * g.s - g.p + kx;
                if (iy >= 0 && iy < g.hi && ix >= 0 && ix < g.wi) f(s, o, oy, ox, i, iy, ix, ky, kx);
              }
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}
// Tolerances relative to the largest value: float GEMMs and F(2x2, 3x3) Winograd stay within 2e-6 here;
// F(4x4, 3x3) measured 3e-6 on these cases and 7e-6 on 64-128-channel maps (its transforms multiply by up to
// 8 and divide by 24).
constexpr double tol = 2e-6, tol_f4x4 = 2e-5;
void check_close(const std::vector<float>& got, const std::vector<double>& want, const char* what, double rel) {
  REQUIRE(got.size() == want.size());
  double err = 0;
  for (std::size_t i = 0; i < got.size(); ++i) err = std::max(err, std::abs(double(got[i]) - want[i]));
  INFO(what << ": max error " << err << " of max |value| " << max_abs(want));
  CHECK(err <= rel * max_abs(want));
}

void check_case(const Case& c) {
  const ConvGeom g = c.geom();
  // The forward and the data gradient (a 'same' convolution's is a forward) take F(4x4) on large maps.
  const bool winograd = cpu::winograd_applies(g) || cpu::valid_as_same(g);
  const double rel = winograd && cpu::winograd_f4x4_pays(g) ? tol_f4x4 : tol;
  const std::ptrdiff_t xs = std::ptrdiff_t(g.ci) * g.hi * g.wi, ys = std::ptrdiff_t(g.co) * g.ho * g.wo;
  Rng rng(11);
  std::vector<float> x(c.n * xs), w(std::size_t(g.co) * g.ci * g.k * g.k), dy(c.n * ys);
  rng.fill_normal(x.data(), std::ptrdiff_t(x.size()));
  rng.fill_normal(w.data(), std::ptrdiff_t(w.size()));
  rng.fill_normal(dy.data(), std::ptrdiff_t(dy.size()));
  auto X = [&](int s, int i, int iy, int ix) { return std::size_t(s * xs + (std::ptrdiff_t(i) * g.hi + iy) * g.wi + ix); };
  auto Y = [&](int s, int o, int oy, int ox) { return std::size_t(s * ys + (std::ptrdiff_t(o) * g.ho + oy) * g.wo + ox); };
  auto Wi = [&](int o, int i, int ky, int kx) { return std::size_t(((std::ptrdiff_t(o) * g.ci + i) * g.k + ky) * g.k + kx); };
  std::vector<double> y(dy.size()), dx(x.size()), dw(w.size());
  direct(c, [&](int s, int o, int oy, int ox, int i, int iy, int ix, int ky, int kx) {
    y[Y(s, o, oy, ox)] += double(w[Wi(o, i, ky, kx)]) * x[X(s, i, iy, ix)];
    dx[X(s, i, iy, ix)] += double(w[Wi(o, i, ky, kx)]) * dy[Y(s, o, oy, ox)];
    dw[Wi(o, i, ky, kx)] += double(dy[Y(s, o, oy, ox)]) * x[X(s, i, iy, ix)];
  });

  std::vector<float> got(dy.size(), 1.f);
  cpu::conv_forward({x.data(), xs}, w.data(), {got.data(), ys}, c.n, g, false);
  check_close(got, y, "forward", rel);
  std::vector<double> twice(y);
  for (std::size_t i = 0; i < y.size(); ++i) twice[i] = 1.0 + y[i];
  std::fill(got.begin(), got.end(), 1.f);
  cpu::conv_forward({x.data(), xs}, w.data(), {got.data(), ys}, c.n, g, true);
  check_close(got, twice, "forward, accumulated", rel);

  std::vector<float> gdx(x.size(), 5.f);
  cpu::conv_backward_data({dy.data(), ys}, w.data(), {gdx.data(), xs}, c.n, g, false);
  check_close(gdx, dx, "data gradient", rel);

  std::vector<float> gdw(w.size(), 0.f);
  cpu::conv_backward_weight({x.data(), xs}, {dy.data(), ys}, gdw.data(), c.n, g);
  check_close(gdw, dw, "weight gradient", winograd && cpu::winograd_f4x4_weight_pays(g) ? tol_f4x4 : tol);
}

}  // namespace

TEST_CASE("convolutions: Winograd shapes against a direct loop") {
  for (Case c : {Case{3, 8, 8, 7, 7, 3, 1, 1}, Case{2, 8, 16, 5, 6, 3, 1, 1}, Case{5, 16, 8, 14, 14, 3, 1, 1},
                 Case{2, 9, 12, 28, 28, 3, 1, 1}, Case{2, 8, 10, 25, 27, 3, 1, 1}, Case{1, 8, 8, 1, 3, 3, 1, 1}}) {
    CAPTURE(c.ci);
    CAPTURE(c.co);
    CAPTURE(c.h);
    CAPTURE(c.w);
    check_case(c);
  }
}

TEST_CASE("convolutions: 3x3 'valid' shapes take Winograd as the centre of the 'same' convolution") {
  // PyTorch's MNIST example's second convolution (32 -> 64, 26x26 -> 24x24), F(2x2) and F(4x4) sizes, a 4x4 map
  // (2x2 outputs), non-square maps
  for (Case c : {Case{3, 32, 64, 26, 26, 3, 1, 0}, Case{2, 8, 9, 7, 7, 3, 1, 0}, Case{2, 9, 8, 4, 4, 3, 1, 0},
                 Case{3, 8, 16, 13, 17, 3, 1, 0}}) {
    CAPTURE(c.ci);
    CAPTURE(c.co);
    CAPTURE(c.h);
    CAPTURE(c.w);
    REQUIRE(cpu::valid_as_same(c.geom()));
    check_case(c);
  }
}

TEST_CASE("convolutions: im2col shapes against a direct loop") {
  // (14x14 -> 7x7 with 4x4 stride-2 kernels: below the transposed-convolution Winograd's threshold)
  for (Case c : {Case{3, 4, 8, 7, 7, 3, 1, 1}, Case{2, 8, 8, 14, 14, 3, 2, 1}, Case{2, 3, 5, 9, 8, 4, 2, 1},
                 Case{4, 1, 8, 28, 28, 3, 1, 1}, Case{3, 8, 16, 14, 14, 4, 2, 1}}) {
    CAPTURE(c.ci);
    CAPTURE(c.k);
    CAPTURE(c.s);
    check_case(c);
  }
}

TEST_CASE("convolutions: 4x4 stride-2 shapes, whose data gradient (UpConv's forward) takes Winograd F(3x3, 2x2)") {
  // Outputs 14x13, 12x12 and 16x15: each class's 3x3 blocks over 15, 14, 13, 17 and 16 positions (filled and cut).
  for (Case c : {Case{2, 12, 8, 28, 26, 4, 2, 1}, Case{3, 8, 16, 24, 24, 4, 2, 1}, Case{1, 8, 9, 32, 30, 4, 2, 1}}) {
    CAPTURE(c.ci);
    CAPTURE(c.co);
    CAPTURE(c.h);
    CAPTURE(c.w);
    REQUIRE(cpu::winograd_upsample_applies(c.geom()));
    check_case(c);
  }
}

TEST_CASE("convolutions: fewer than 4 output channels take the direct path") {
  for (Case c : {Case{3, 16, 1, 28, 28, 3, 1, 1}, Case{2, 5, 3, 9, 8, 3, 1, 1}, Case{2, 4, 2, 10, 9, 5, 1, 2},
                 Case{2, 3, 1, 6, 7, 3, 1, 0}}) {
    CAPTURE(c.ci);
    CAPTURE(c.co);
    CAPTURE(c.k);
    CAPTURE(c.p);
    REQUIRE(cpu::direct_applies(c.geom()));
    check_case(c);
  }
}

TEST_CASE("convolutions: a kernel covering the whole input (Unflatten's transpose) is one GEMM over the batch") {
  for (Case c : {Case{5, 16, 8, 7, 7, 7, 7, 0}, Case{3, 4, 12, 3, 3, 3, 1, 0}}) {
    CAPTURE(c.ci);
    CAPTURE(c.co);
    CAPTURE(c.k);
    REQUIRE(cpu::whole_map(c.geom()));
    check_case(c);
  }
}
