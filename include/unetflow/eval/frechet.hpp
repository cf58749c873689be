#pragma once
// The Frechet distance between two Gaussians fitted to feature sets (the FID formula, here over the digit
// classifier's penultimate features): |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2).
// eigen.hpp first: it includes Eigen's core where a false positive of the intrinsic headers is silenced.
#include "../backend/cpu/eigen.hpp"
// Then the decompositions.
#include <Eigen/Dense>
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

inline double frechet_distance(const Gaussian& a, const Gaussian& b) {
  const Eigen::MatrixXd s1 = psd_sqrt(a.cov);
  const Eigen::MatrixXd middle = psd_sqrt(s1 * b.cov * s1);
  return (a.mean - b.mean).squaredNorm() + (a.cov + b.cov - 2.0 * middle).trace();
}

}  // namespace unetflow
