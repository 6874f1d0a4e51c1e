#pragma once
// A slot's accuracy on the Fashion-MNIST test set and the images it gets wrong.
#include "service/types.h"

namespace fs::service {

class SlotStore;

class TestSetService {
 public:
  explicit TestSetService(SlotStore& store) : store_(store) {}
  // The first `limit` test images through a 10-class slot (InputError otherwise).
  TestSetReport evaluate(int slot, int limit);

 private:
  SlotStore& store_;
};

}  // namespace fs::service
