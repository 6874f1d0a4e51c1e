#include "service/session.h"

#include "service/slot_store.h"

namespace fs::service {

Session::Session()
    : store_(std::make_unique<SlotStore>()),
      slots_(*store_),
      images_(*store_),
      features_(*store_),
      saliency_(*store_),
      cka_(*store_),
      exports_(*store_),
      testSet_(*store_),
      attention_(*store_),
      evaluation_(*store_),
      sanity_(*store_),
      featureVis_(*store_) {}

Session::~Session() = default;

}  // namespace fs::service
