#include "analysis/saliency/displayed_map.h"

#include <ATen/ATen.h>

namespace fs::analysis {

at::Tensor displayedMap(const at::Tensor& map2d, SignMode sign) {
  if (!map2d.defined()) return map2d;
  switch (sign) {
    case SignMode::Relu: return map2d.clamp_min(0);
    case SignMode::Absolute: return map2d.abs();
    case SignMode::Signed: return map2d;
  }
  return map2d;
}

}  // namespace fs::analysis
