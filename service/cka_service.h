#pragma once
// Linear CKA between every tap of two slots over a set of images (analysis/cka.h).
#include "service/types.h"

#include <atomic>
#include <string>
#include <vector>

namespace fs::service {

class SlotStore;

class CkaService {
 public:
  explicit CkaService(SlotStore& store) : store_(store) {}
  // At least 2 readable images (unreadable files are skipped); InputError otherwise.
  SessionCka compute(int slotA, int slotB, const std::vector<std::string>& imagePaths,
                     const SessionProgress& progress = {}, const std::atomic<bool>* cancel = nullptr);

 private:
  SlotStore& store_;
};

}  // namespace fs::service
