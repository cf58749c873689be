#pragma once
// Every flow-matching model the programs build, by --arch, image shape, kind (time-only or class-conditioned) and
// width D, in one place: train_flow builds one from its flags, sample finds the same one from the name a checkpoint
// records (parse_flow_model_name). Class-conditioned models take up to 10 classes (a set of fewer leaves the last
// one-hot inputs unused).
//   assignment   the assignment's UNets (Part 2), every shape and kind, D 16-128
//   every-level  the assignment's blocks with the time at every level (D12), time-only 1x28x28, D 16-64
//   residual     ResUNet: residual blocks, attention at 7x7 (1x28x28: time-only, D 16-32) or at 8x8 (3x32x32:
//                time-only and class-conditioned, D 32-64)
#include <string>
#include <type_traits>
#include <unetflow/unetflow.hpp>

#include "runs/flow.hpp"
#include "support/flags.hpp"

namespace examples {

template <class In, int D, bool Classes, class B>
using FlowModel =
    std::conditional_t<Classes, ClassTimeUNet<In::C, In::H, In::W, D, 10, B>, TimeUNet<In::C, In::H, In::W, D, B>>;

template <int D, class B>
using EveryLevelTimeUNet = PlainUNet<1, 28, 28, D, Widths<1, 2>, TimeConditioned, B>;

// ResUNet's levels and attention side for each image shape: 28 -> 14 -> 7 (attention at 7x7), 32 -> 16 -> 8 -> 4
// (attention at 8x8).
template <class In>
struct ResidualLayout {
  using widths = Widths<1, 2>;
  static constexpr int attention = 7;
};
template <>
struct ResidualLayout<Shape<3, 32, 32>> {
  using widths = Widths<1, 2, 2>;
  static constexpr int attention = 8;
};
template <class In, int D, bool Classes, class B>
using ResidualFlowUNet = ResUNet<In::C, In::H, In::W, D, typename ResidualLayout<In>::widths,
                                 std::conditional_t<Classes, TimeClassConditioned<10>, TimeConditioned>,
                                 ResidualLayout<In>::attention, 4, B>;

// The name a run's checkpoints record (metadata "model"), e.g. "ResidualClassTimeUNet<3,32,32,attention=8x8,D=32,
// classes=10>"; the assignment's keep Part 2's names ("TimeUNet<1,28,28,D=64>").
template <class In, int D, bool Classes>
std::string flow_model_name(const std::string& arch) {
  const std::string kind = Classes ? "ClassTimeUNet<" : "TimeUNet<";
  const std::string prefix = arch == "every-level" ? "EveryLevel" : arch == "residual" ? "Residual" : "";
  const int a = ResidualLayout<In>::attention;
  const std::string attention =
      arch == "residual" ? ",attention=" + std::to_string(a) + "x" + std::to_string(a) : std::string();
  return prefix + kind + shape_text<In>() + attention + ",D=" + std::to_string(D) + (Classes ? ",classes=10>" : ">");
}

// The architectures beyond the assignment's for one image shape, kind and backend, by width.
template <class In, bool Classes, class B>
struct FlowArchitectures {
  template <int D>
  using EveryLevel = EveryLevelTimeUNet<D, B>;
  template <int D>
  using Residual = ResidualFlowUNet<In, D, Classes, B>;
};

// Calls f.template operator()<Model>(name) with the model of --arch `arch` and width `hidden` for In-shaped images
// (class-conditioned when Classes), or says in one sentence what is built instead.
template <class In, bool Classes, class B, class F>
int with_flow_model(const std::string& arch, int hidden, F&& f) {
  if (arch == "assignment")
    return with_hidden(hidden, [&]<int D>() {
      return f.template operator()<FlowModel<In, D, Classes, B>>(flow_model_name<In, D, Classes>(arch));
    });
  const std::string images = std::to_string(In::C) + "x" + std::to_string(In::H) + "x" + std::to_string(In::W);
  // The first of the widths Ds that equals `hidden`, built with M<D>.
  const auto build = [&]<template <int> class M, int... Ds>(const char* widths) {
    int result = 0;
    const bool built =
        ((hidden == Ds && (result = f.template operator()<M<Ds>>(flow_model_name<In, Ds, Classes>(arch)), true)) ||
         ...);
    if (!built)
      throw Error("--arch " + arch + " on " + images + " images: --hidden " + std::to_string(hidden) +
                  " is not built in (" + widths + ").");
    return result;
  };
  using A = FlowArchitectures<In, Classes, B>;
  constexpr bool grey = std::is_same_v<In, Shape<1, 28, 28>>, colour = std::is_same_v<In, Shape<3, 32, 32>>;
  if constexpr (grey && !Classes) {
    if (arch == "every-level") return build.template operator()<A::template EveryLevel, 16, 32, 64>("16, 32 or 64");
    if (arch == "residual") return build.template operator()<A::template Residual, 16, 32>("16 or 32");
  }
  if constexpr (colour)
    if (arch == "residual") return build.template operator()<A::template Residual, 32, 64>("32 or 64");
  throw Error("--arch " + arch + " is not built for " + std::string(Classes ? "class-conditioned" : "time-only") +
              " models of " + images +
              " images (every-level: time-only 1x28x28; residual: time-only 1x28x28, and 3x32x32 of either kind).");
}

}  // namespace examples
