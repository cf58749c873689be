#pragma once
// The Frechet distance between two Gaussians fitted to feature sets (the FID formula, here over the digit
// classifier's penultimate features): |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2).
// eigen.hpp first: it includes Eigen's core where a false positive of the intrinsic headers is silenced.
#include "../backend/cpu/eigen.hpp"
// Then the decompositions.
#include <Eigen/Dense>
#include <cmath>
#include <string>
#include <vector>

#include "../error.hpp"

namespace unetflow {

struct Gaussian {
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
};

// rows: n feature vectors of dimension d, row-major.
inline Gaussian fit_gaussian(const std::vector<float>& rows, int n, int d) {
  if (n < 2) throw Error("a Frechet distance needs at least 2 feature vectors per set, not " + std::to_string(n) + ".");
  if (rows.size() != std::size_t(n) * std::size_t(d))
    throw Error("fit_gaussian: " + std::to_string(rows.size()) + " values are not " + std::to_string(n) +
                " vectors of " + std::to_string(d) + ".");
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (!std::isfinite(rows[i]))
      throw Error("a Frechet distance cannot be computed: feature " + std::to_string(i % std::size_t(d)) +
                  " of vector " + std::to_string(i / std::size_t(d)) +
                  " is not a finite number (inputs far outside the range the features were made for?).");
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> x(rows.data(), n, d);
  Eigen::MatrixXd xd = x.cast<double>();
  Gaussian g;
  g.mean = xd.colwise().mean();
  const Eigen::MatrixXd centred = xd.rowwise() - g.mean.transpose();
  g.cov = centred.transpose() * centred / double(n - 1);
  return g;
}

inline Eigen::MatrixXd psd_sqrt(const Eigen::MatrixXd& m) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(m);
  return es.eigenvectors() * es.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal() * es.eigenvectors().transpose();
}

// Throws when the distance is not a finite number (features so large that their squares overflow): a score that
// cannot be computed is an error, not a number.
inline double frechet_distance(const Gaussian& a, const Gaussian& b) {
  const Eigen::MatrixXd s1 = psd_sqrt(a.cov);
  const Eigen::MatrixXd middle = psd_sqrt(s1 * b.cov * s1);
  const double d = (a.mean - b.mean).squaredNorm() + (a.cov + b.cov - 2.0 * middle).trace();
  if (!std::isfinite(d))
    throw Error(
        "a Frechet distance cannot be computed: the features' means and covariances overflow (inputs far outside the "
        "range the features were made for?).");
  return d;
}

}  // namespace unetflow
