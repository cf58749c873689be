#pragma once
// What a Trainer (train/trainer.hpp) is asked to do.
#include <cstdint>
#include <filesystem>

#include "../data/augment.hpp"
#include "../optim/ema.hpp"

namespace unetflow {

struct TrainOptions {
  int epochs = 5;
  int batch = 256;
  double lr = 1e-4;
  double lr_gamma = 1.0;    // ExponentialLR factor per epoch; 1 keeps the learning rate constant
  std::uint64_t seed = 0;   // shuffling and noise streams
  int steps_per_epoch = 0;  // 0: the whole training set each epoch
  double ema_decay = 0;     // > 0: keep an exponential moving average of the weights (model-epoch files hold it)
  // The batch-norm statistics the averaged weights are evaluated with: the trained model's running ones, the moving
  // average's own average of them (timm's ModelEmaV2), or recomputed for the averaged weights (PyTorch's update_bn)
  // over the first `statistics_batches` batches of the first epoch with a noise stream of their own.
  EmaStatistics ema_statistics = EmaStatistics::running;
  int statistics_batches = 20;
  Augmentation augmentation;  // random crops and flips of the training images (data/augment.hpp); none by default
  std::filesystem::path run_dir = "runs/default";
  bool resume = false;
  bool progress = true;
  // A batch whose training step would need more memory than this many bytes is refused before training
  // (train/memory_estimate.hpp: two steps of the task on a throwaway model, which the task sees as steps of
  // another model); 0: 90 % of what the machine has available; negative: no check.
  double memory_limit_bytes = 0;
};

}  // namespace unetflow
