#pragma once
// Saliency maps of the current image through the registered methods
// (analysis/saliency/saliency_method.h), with the method's display convention, and optionally
// the deletion/insertion curves ranked by the same 2-D map that is displayed.
#include "service/types.h"

#include <atomic>
#include <string>
#include <vector>

namespace fs::service {

class SlotStore;

class SaliencyService {
 public:
  explicit SaliencyService(SlotStore& store) : store_(store) {}
  // result.cancelled when `cancel` was set before the map was finished.
  SaliencyMapResult compute(int slot, const SaliencyParams& params, const SessionProgress& progress = {},
                            const std::atomic<bool>* cancel = nullptr);

  static std::vector<std::string> methodNames();                   // registration order
  // Whether `method` applies to the slot's model (the attention methods need attention units).
  static bool applies(const std::string& method, const SlotInfo& info);
  static std::string methodTitle(const std::string& method);       // e.g. "Grad-CAM"
  static std::vector<std::string> integratedGradientsBaselines();  // zero, black, blur, mean

 private:
  SlotStore& store_;
};

}  // namespace fs::service
