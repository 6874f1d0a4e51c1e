#pragma once
// Precompiled header for the LibTorch layers (model/, analysis/): the narrow torch headers.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/batchnorm.h>

#include <map>
#include <memory>
#include <string>
#include <vector>
