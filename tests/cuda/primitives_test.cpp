// The CUDA policy's primitives one by one against the CPU policy's, on plain buffers: GEMM in every transpose
// pair with leading dimensions wider than the matrices and sizes of 1, blend, MSE, the flow-matching
// interpolation, several Adam steps, bn_prepare in training and evaluation mode, and channel-slice (strided) views
// into the bias, channel-sum, batch-norm, pooling and modulation primitives, with reductions in one part and in
// many.
#include <array>
#include <cmath>
#include <cstdio>

#include "mirror.hpp"

using namespace unetflow;

using mirror::Both;

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
  mirror::expect_synchronised();
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
  mirror::expect_synchronised();
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
  mirror::expect_synchronised();
}

TEST_CASE("bn_prepare (training and evaluation) on CUDA matches the CPU policy") {
  Rng rng(21, 4);
  const int n = 6, C = 5, plane = 49;
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
  mirror::expect_synchronised();
}

TEST_CASE("channel-slice (strided) views into bias, channel-sum, batch-norm, pooling and modulation primitives, in one and many parts") {
  Rng rng(21, 5);
  // Rows wider than the C planes, as a view of channels [a, a + C) of a wider tensor gives; the larger batches
  // split each channel's reduction over several blocks (src/cuda/layout.hpp).
  for (auto [n, C, h] : {std::array{6, 5, 14}, std::array{50, 3, 14}, std::array{300, 2, 28}}) {
    CAPTURE(n);
    CAPTURE(C);
    CAPTURE(h);
    const int plane = h * h, k = 7, pooled = (h / k) * (h / k);
    const std::ptrdiff_t xs = std::ptrdiff_t(C) * plane + 13, ys = std::ptrdiff_t(C) * plane + 5, ps = std::ptrdiff_t(C) * pooled + 3;
    Both x(std::size_t(n * xs), rng), y(std::size_t(n * ys), rng), bias(std::size_t(C), rng);
    cpu::add_channel_bias({y.c.data(), ys}, n, C, plane, bias.c.data());
    cuda::add_channel_bias({y.g, ys}, n, C, plane, bias.g);
    EXPECT_CLOSE("add_channel_bias", y.c, y.device());
    Both sums(std::size_t(C), rng);
    cpu::channel_sums({y.c.data(), ys}, n, C, plane, sums.c.data());
    cuda::channel_sums({y.g, ys}, n, C, plane, sums.g);
    EXPECT_CLOSE("channel sums (accumulated)", sums.c, sums.device());

    Both mean(std::size_t(C), rng), var(std::size_t(C), rng);
    cpu::bn_stats({x.c.data(), xs}, n, C, plane, mean.c.data(), var.c.data());
    cuda::bn_stats({x.g, xs}, n, C, plane, mean.g, var.g);
    EXPECT_CLOSE("bn_stats mean", mean.c, mean.device());
    EXPECT_CLOSE("bn_stats variance", var.c, var.device());
    std::vector<float> invstd_h(static_cast<std::size_t>(C));
    for (int c = 0; c < C; ++c) invstd_h[std::size_t(c)] = float(1 / std::sqrt(double(var.c[std::size_t(c)]) + 1e-5));
    Both invstd(std::size_t(C), rng), gamma(std::size_t(C), rng, 0.5, 1.5), beta(std::size_t(C), rng);
    invstd.c = invstd_h;
    cuda::from_host(invstd_h.data(), invstd.g, C);
    cuda::from_host(mean.c.data(), mean.g, C);  // both continue from the same statistics

    for (Activation act : {Activation(Activation::none), Activation(Activation::gelu), Activation(Activation::relu),
                           Activation(Activation::leaky_relu, 0.2f), Activation(Activation::silu)}) {
      CAPTURE(int(act.kind));
      cpu::bn_apply({x.c.data(), xs}, {y.c.data(), ys}, n, C, plane, mean.c.data(), invstd.c.data(), gamma.c.data(), beta.c.data(), act);
      cuda::bn_apply({x.g, xs}, {y.g, ys}, n, C, plane, mean.g, invstd.g, gamma.g, beta.g, act);
      EXPECT_CLOSE("bn_apply", y.c, y.device());
      for (bool batch_stats : {true, false}) {
        CAPTURE(batch_stats);
        Both g(std::size_t(n * ys), rng), dgamma(std::size_t(C), rng), dbeta(std::size_t(C), rng);
        cpu::bn_backward({x.c.data(), xs}, {g.c.data(), ys}, n, C, plane, mean.c.data(), invstd.c.data(), gamma.c.data(),
                         beta.c.data(), dgamma.c.data(), dbeta.c.data(), batch_stats, act);
        cuda::bn_backward({x.g, xs}, {g.g, ys}, n, C, plane, mean.g, invstd.g, gamma.g, beta.g, dgamma.g, dbeta.g,
                          batch_stats, act);
        EXPECT_CLOSE("bn_backward input gradient", g.c, g.device());
        EXPECT_CLOSE("bn_backward gamma gradient (accumulated)", dgamma.c, dgamma.device());
        EXPECT_CLOSE("bn_backward beta gradient (accumulated)", dbeta.c, dbeta.device());
      }
    }

    Both pooled_y(std::size_t(n * ps), rng);
    cpu::avgpool_forward({x.c.data(), xs}, {pooled_y.c.data(), ps}, n, C, h, h, k);
    cuda::avgpool_forward({x.g, xs}, {pooled_y.g, ps}, n, C, h, h, k);
    EXPECT_CLOSE("avgpool_forward", pooled_y.c, pooled_y.device());
    for (bool accumulate : {false, true}) {
      CAPTURE(accumulate);
      cpu::avgpool_backward({pooled_y.c.data(), ps}, {y.c.data(), ys}, n, C, h, h, k, accumulate);
      cuda::avgpool_backward({pooled_y.g, ps}, {y.g, ys}, n, C, h, h, k, accumulate);
      EXPECT_CLOSE("avgpool_backward", y.c, y.device());
    }

    const std::ptrdiff_t cs = C + 4;  // scale and shift are channel slices of a wider conditioning vector too
    Both scale(std::size_t(n * cs), rng), shift(std::size_t(n * cs), rng), out(std::size_t(n * ys), rng);
    cpu::modulate_forward({x.c.data(), xs}, {scale.c.data(), cs}, {shift.c.data(), cs}, {out.c.data(), ys}, n, C, plane);
    cuda::modulate_forward({x.g, xs}, {scale.g, cs}, {shift.g, cs}, {out.g, ys}, n, C, plane);
    EXPECT_CLOSE("modulate_forward", out.c, out.device());
    Both dh(std::size_t(n * ys), rng), dscale(std::size_t(n * cs), rng), dshift(std::size_t(n * cs), rng);
    cpu::modulate_backward({x.c.data(), xs}, {scale.c.data(), cs}, {out.c.data(), ys}, {dh.c.data(), ys},
                           {dscale.c.data(), cs}, {dshift.c.data(), cs}, n, C, plane);
    cuda::modulate_backward({x.g, xs}, {scale.g, cs}, {out.g, ys}, {dh.g, ys}, {dscale.g, cs}, {dshift.g, cs}, n, C, plane);
    EXPECT_CLOSE("modulate_backward dh", dh.c, dh.device());
    EXPECT_CLOSE("modulate_backward dscale", dscale.c, dscale.device());
    EXPECT_CLOSE("modulate_backward dshift", dshift.c, dshift.device());
  }
  mirror::expect_synchronised();
}
