#pragma once
// How a model wants its input: resize the short side to size/crop_pct with `interpolation`,
// centre-crop height x width, scale to [0,1], subtract mean and divide by std (RGB order).
#include <array>
#include <string>

namespace fs::model {

enum class Interpolation { Nearest, Bilinear, Bicubic };

struct InputSpec {
  int height = 224;
  int width = 224;
  double cropPct = 0.875;
  Interpolation interpolation = Interpolation::Bicubic;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

const char* interpolationName(Interpolation i);

}  // namespace fs::model
