#pragma once
// sample --gamma-sweep: a class-conditioned model's samples at each guidance scale gamma, from the same starting
// noise, scored by the data set's classifier: the share drawn as the class asked for, the Frechet distance to the
// test set, the confident share and the class spread per gamma (summary.json, guidance_sweep.csv), one chart of
// accuracy and Frechet distance against gamma, and a grid of one sample per class at each gamma. Included by
// sample_impl.hpp.
#include <sstream>
#include <string>
#include <vector>
#include <unetflow/eval/scorer.hpp>

#include "runs/flow_scoring.hpp"
#include "support/images.hpp"

namespace examples {

template <class In, class B, class Model>
int sweep_guidance(const SampleFlags& f, Model& model, int classes) {
  const auto test = open_data(f.data, Split::test);
  if (!fs::exists(f.classifier))
    throw Error("no classifier at " + f.classifier + " to score the sweep (train one: scripts/classifier.sh " + f.data +
                ").");
  Scorer<In, B> scorer(f.classifier, test);
  RunSummary summary(f.out);
  const Solver solver = solver_from_name(f.solver);
  std::ostringstream csv;
  csv << "gamma,accuracy,frechet_distance,confident_share,class_spread\n";
  std::vector<float> grid;  // the first sample of each class at each gamma
  std::vector<std::string> rows, cols;
  for (int c = 0; c < classes; ++c) cols.push_back(class_label<In>(f.class_names, c));
  for (const double gamma : f.gamma_sweep) {
    Rng noise(f.seed, 8);  // the same starting noise at every gamma
    const auto t0 = std::chrono::steady_clock::now();
    const auto [x, labels] = draw_samples<true>(model, f.n, classes, gamma, f.steps, solver, noise);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto scores = scorer.score(x.data(), f.n, labels.data());
    std::fprintf(stderr, "gamma %g (%.1f s): %s\n", gamma, seconds, scores.line().c_str());
    auto j = scores.json();
    j["gamma"] = gamma;
    j["sampling_seconds"] = seconds;
    summary["sweep"].push_back(j);
    summary.write();
    csv << gamma << ',' << scores.accuracy << ',' << scores.frechet << ',' << scores.confident << ',' << scores.spread
        << '\n';
    grid.insert(grid.end(), x.begin(), x.begin() + std::ptrdiff_t(std::min(classes, f.n)) * In::size);
    grid.resize(grid.size() + std::size_t(std::max(0, classes - f.n)) * In::size, 0.0f);
    rows.push_back("gamma " + fmt(gamma, 1));
  }
  const auto data_csv = summary.file("guidance_sweep.csv", "scores per guidance scale gamma");
  write_atomically(data_csv, csv.str());
  const auto chart = summary.file("guidance_sweep.png", "accuracy and Frechet distance against gamma");
  std::ostringstream gp;
  gp << gnuplot_preamble(chart, 900, 500) << "set title "
     << gnuplot_wrapped("Classifier-free guidance: " + std::to_string(f.n) + " samples per gamma (" +
                            solver_phrase(f.steps, solver) + ")",
                        90)
     << " font 'Sans,13'\nset datafile separator ','\nset grid\nset key bottom right\n"
     << "set xlabel 'guidance scale gamma'\nset ylabel 'drawn as the class asked for (%)'\n"
     << "set y2label 'Frechet distance to the test set'\nset ytics nomirror\nset y2tics\n"
     << "set yrange [0:100]\nset y2range [0:*]\n"
     << "plot " << gnuplot_quote(data_csv.string())
     << " using 1:($2*100) every ::1 with linespoints lw 2 pt 7 lc rgb '#08519c' title 'as-asked accuracy', "
     << gnuplot_quote(data_csv.string())
     << " using 1:3 every ::1 axes x1y2 with linespoints lw 2 pt 5 lc rgb '#d95f0e' title 'Frechet distance'\n";
  auto script = chart;
  script.replace_extension(".gp");
  run_gnuplot(script, gp.str(), chart);
  write_labelled_grid(summary.file("guidance_sweep_grid.png", "one sample per class at each gamma, same noise"),
                      "The same starting noise at each guidance scale (" + f.model_name + ")", grid.data(),
                      int(f.gamma_sweep.size()), classes, In::H, In::W, rows, cols, "", "", In::C);
  summary["config"] = {
      {"checkpoint", f.checkpoint}, {"model", f.model_name}, {"samples_per_gamma", f.n}, {"steps", f.steps},
      {"solver", f.solver},         {"seed", f.seed},        {"data", f.data},           {"classifier", f.classifier}};
  summary.write();
  std::printf("guidance sweep written to %s\n", chart.c_str());
  return 0;
}

}  // namespace examples
