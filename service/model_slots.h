#pragma once
// Loading and removing the session's models (up to kMaxSlots), and the catalogue of registered
// variants. Thread: the worker's (see service/session.h); the static functions from any thread.
#include "service/types.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fs::service {

class SlotStore;

class ModelSlots {
 public:
  explicit ModelSlots(SlotStore& store) : store_(store) {}
  // Loads a registered id or a JSON config, with a checkpoint or random weights (seed), into
  // `slot`. Throws InputError and leaves the slot's model as it was on failure.
  SlotInfo load(int slot, const std::string& idOrConfig, const std::string& weightsPath, uint64_t seed = 0);
  void clear(int slot);

  static std::vector<std::string> registeredIds();
  static std::string describeVariant(const std::string& id);  // empty for an unknown id

 private:
  SlotStore& store_;
};

}  // namespace fs::service
