// Precompiled header of the train layer (mpitune_train, test_train and the train benchmarks).
//
// One translation unit that parses these headers costs ~20 s on two cores; CMake compiles them
// once and every train file reuses the result. Kept to the narrow headers the layer uses: ATen's
// tensor ops, autograd's grad(), the CUDA query and the version macros. Not <torch/torch.h>,
// which adds the nn modules, optimizers, data loaders and serialization.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>  // NoGradGuard (no longer reached through ATen.h in 2.x)
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>
#include <torch/version.h>
