#include "model/input_spec.h"

namespace fs::model {

const char* interpolationName(Interpolation i) {
  switch (i) {
    case Interpolation::Nearest: return "nearest";
    case Interpolation::Bilinear: return "bilinear";
    case Interpolation::Bicubic: return "bicubic";
  }
  return "unknown";
}

}  // namespace fs::model
