#pragma once
// Feature visualisation of a slot's model over a data set (issue 15's desktop part): dataset
// exemplars of every tap (analysis/features/exemplars.h) kept as index files in a cache folder and
// reused when their key matches, one channel's exemplars as receptive-field crops, activation
// maximisation of one channel (feature_visualization.h), the effective receptive fields of the
// stages (effective_rf.h: the same function as `featurescope-cli erf`) and per-channel selectivity
// (selectivity.h). Long passes report progress and stop when `cancel` is set (result.cancelled).
// Torch-free header; worker thread only, like every session service.
#include "service/feature_vis_types.h"

#include <atomic>
#include <memory>
#include <string>

namespace fs::service {

class SlotStore;

class FeatureVisService {
 public:
  explicit FeatureVisService(SlotStore& store);
  ~FeatureVisService();
  FeatureVisService(const FeatureVisService&) = delete;
  FeatureVisService& operator=(const FeatureVisService&) = delete;

  // Builds (or reads from the cache) the slot's exemplar index over the images; it stays the
  // slot's index for channelExemplars() until the next call. InputError for bad images or folders.
  ExemplarsReady exemplars(const ExemplarsRequest& request, const SessionProgress& progress,
                           const std::atomic<bool>* cancel);
  bool hasExemplars(int slot) const;
  // The channel's exemplars from the slot's index (InputError before exemplars(), for a model that
  // changed since, an unknown tap or a channel out of range).
  ChannelExemplars channelExemplars(int slot, const std::string& tap, int channel);
  ChannelVis visualize(const ChannelVisRequest& request, const SessionProgress& progress,
                       const std::atomic<bool>* cancel);
  SlotErf erf(const ErfRequest& request, const SessionProgress& progress, const std::atomic<bool>* cancel);
  ChannelSelectivity selectivity(const SelectivityRequest& request, const SessionProgress& progress,
                                 const std::atomic<bool>* cancel);

 private:
  struct Impl;  // the indexes with their image sources, per slot; the weights' fingerprints
  SlotStore& store_;
  std::unique_ptr<Impl> impl_;
};

// Where an index of `modelId` with this key string is kept: DIR/exemplars/<model>-<sha256(key)[:16]>.json.
std::string exemplarCachePath(const std::string& cacheDir, const std::string& modelId, const std::string& key);

}  // namespace fs::service
