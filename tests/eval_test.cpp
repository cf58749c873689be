// The Frechet distance against closed forms, and the weight moving average's update rule.
#include <doctest/doctest.h>

#include <cmath>
#include <unetflow/eval/frechet.hpp>
#include <unetflow/unetflow.hpp>

#include "test_util.hpp"

using namespace unetflow;

TEST_CASE("Frechet distance: zero for one set, closed forms for shifted and scaled Gaussians") {
  Rng rng(4);
  const int n = 4000, d = 3;
  std::vector<float> a(n * d), shifted(n * d), scaled(n * d);
  rng.fill_normal(a.data(), n * d);
  for (int i = 0; i < n * d; ++i) {
    shifted[std::size_t(i)] = a[std::size_t(i)] + (i % d == 1 ? 2.0f : 0.0f);
    scaled[std::size_t(i)] = 3.0f * a[std::size_t(i)];
  }
  const auto ga = fit_gaussian(a, n, d);
  CHECK(frechet_distance(ga, ga) == doctest::Approx(0).scale(1).epsilon(1e-6));
  // A mean shift by v adds |v|^2 = 4.
  CHECK(frechet_distance(ga, fit_gaussian(shifted, n, d)) == doctest::Approx(4.0).epsilon(1e-6));
  // Scaling by 3: means m and 3m, covariances C and 9C: |2m|^2 + tr(C + 9C - 2 * 3C) = 4 |m|^2 + 4 tr(C).
  CHECK(frechet_distance(ga, fit_gaussian(scaled, n, d)) == doctest::Approx(4 * (ga.mean.squaredNorm() + ga.cov.trace())).epsilon(1e-6));
  CHECK(ga.cov.trace() == doctest::Approx(3.0).epsilon(0.06));
}

TEST_CASE("the moving average of weights follows d = min(decay, (1 + k) / (10 + k))") {
  test_util::SingleParam m({1});
  Ema<cpu> ema(m, 0.5);
  double shadow = 0;
  for (int k = 0; k < 12; ++k) {
    m.p.data()[0] = float(k + 1);
    ema.update();
    const double d = std::min(0.5, (1.0 + k) / (10.0 + k));
    shadow = d * shadow + (1 - d) * (k + 1);
  }
  test_util::SingleParam copy({1});
  ema.copy_to(copy);
  CHECK(copy.p.data()[0] == doctest::Approx(shadow).epsilon(1e-6));
}
