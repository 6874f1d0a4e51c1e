#pragma once
// featurescope-cli sanity: the sanity checks of saliency maps over a set of images.
// - Model-parameter randomisation (Adebayo et al. 2018, "Sanity Checks for Saliency Maps",
//   NeurIPS, sec. 3.1), cascading or independent (analysis/evaluation/sanity.h does one image: the
//   units from the logits down, each re-initialised with the family's own init, and the four
//   similarities Spearman, |Spearman|, SSIM and HOG of each randomised map to the original, on maps
//   at the input size). Here: the similarities of every image, their means per method and unit
//   (NaN values, e.g. HOG on a map below its size, left out of the mean and counted), the figure as
//   the paper's Figure 2 (rows = methods, columns = the original map, then the map after each step,
//   for the first image; each map on its own scale, as the paper shows them) and the similarity
//   curves (mean per method vs step, one panel per similarity).
// - Random-logit test (Sixt et al. 2020, "When Explanations Lie", ICML, sec. 5): each image's map
//   for its target against the map for a random other class (randomLogitTest, seeded with the
//   sanity seed + the image's index).
// - Data randomisation (Adebayo et al. 2018, sec. 3.2): each image's map against the map of the
//   same architecture trained on permuted labels (train --permute-labels), for the same target.
// Both comparisons use the same four similarities and appear as extra columns of the figure.
// sanity --mode both: the cascading and the independent run of the same images, methods and seed
// in one figure (per method a row per mode), one set of curves (cascading solid, independent
// dashed) and one table (the rows of both, the mode column tells them apart).
#include "analysis/evaluation/sanity.h"
#include "analysis/evaluation/similarity.h"
#include "analysis/figure_layout.h"
#include "analysis/model_loader.h"
#include "analysis/saliency/saliency_method.h"

#include <ATen/core/Tensor.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

struct SanityCascadeOptions {
  std::vector<std::string> methods;
  SaliencyOptions saliency;  // the methods' parameters; target = each image's top-1 prediction
  uint64_t seed = 0;         // the fresh model's initialisation (modelRandomisation), the random classes
  RandomisationMode mode = RandomisationMode::Cascading;
  bool randomLogit = false;               // also run the random-logit test (one more map per image and method)
  LoadedModel* dataRandomised = nullptr;  // the same architecture trained on permuted labels, or none
  std::function<void(const std::string&)> log;  // one line per image
  // After each randomised unit: the fraction done of all images x methods x units.
  std::function<void(double)> progress;
  // Checked before each randomised unit and each extra map: once set, the run stops within one
  // unit and returns the images finished before, with cancelled = true.
  const std::atomic<bool>* cancel = nullptr;
};

// Each image's map against one other map of it, per method (random-logit test, data randomisation).
struct MapComparison {
  std::vector<std::vector<SimilarityScores>> scores;  // [image][method]; empty: not run
  std::vector<cv::Mat> firstMaps;                     // [method]: the first image's other map, CV_32F
};

struct SanityCascade {
  RandomisationMode mode = RandomisationMode::Cascading;
  std::vector<std::string> methods;
  std::vector<std::string> titles;           // the methods' titles
  std::vector<MapConvention> conventions;    // the methods' display conventions
  std::vector<std::string> units;            // randomised in this order (head first)
  std::vector<std::string> images;           // names, in order
  std::vector<std::vector<cv::Mat>> firstMaps;  // [method][0 = original, k = after units 0..k-1], CV_32F
  std::vector<std::vector<std::vector<SimilarityScores>>> scores;  // [image][method][unit]
  std::vector<int> targets;        // [image]: the top-1 prediction, the explained class
  std::vector<int> otherClasses;   // [image]: the random-logit test's other class (when run)
  MapComparison randomLogit;       // empty unless options.randomLogit
  MapComparison dataRandomised;
  bool cancelled = false;          // options.cancel stopped the run (images: those finished)
};

// inputs: [1,3,H,W] each, names one per input. InputError for an unknown method or no input.
SanityCascade runSanityCascade(LoadedModel& model, const std::vector<at::Tensor>& inputs,
                               const std::vector<std::string>& names, const SanityCascadeOptions& options);

struct SimilarityMean {
  double value = 0.0;  // NaN when no image has a finite value
  int n = 0;           // images with a finite value
};
// The mean of similarity `key` (spearman, spearman_abs, ssim, hog) of `method` at unit index `unit`.
SimilarityMean meanSimilarity(const SanityCascade& c, size_t method, size_t unit, const std::string& key);
const std::vector<std::string>& similarityKeys();  // spearman, spearman_abs, ssim, hog
double similarityValue(const SimilarityScores& s, const std::string& key);
std::string modeName(RandomisationMode mode);  // "cascading" or "independent"
// The mode named "cascading" (or "cascade") or "independent"; false for any other name.
bool parseModeName(const std::string& name, RandomisationMode& mode);

FigureLayout sanityCascadeFigure(const SanityCascade& c, const std::string& title);
FigureLayout sanityCurvesFigure(const SanityCascade& c, const std::string& title);
// Several runs of the same images and methods in one figure (sanity --mode both: the cascading
// run, with the comparisons, then the independent one): per method a row for each run, labelled
// with its mode; the curves of the runs in one panel per similarity, the first solid, the second
// dashed. One run gives the single-run figures above.
FigureLayout sanityCascadeFigure(const std::vector<const SanityCascade*>& runs, const std::string& title);
FigureLayout sanityCurvesFigure(const std::vector<const SanityCascade*>& runs, const std::string& title);

// "method,depth,unit,metric,mean,n,mode" (depth 1 = the head; in cascading mode the units up to
// depth are randomised, in independent mode only that one) and per image
// "image,method,depth,unit,spearman,spearman_abs,ssim,hog,mode" (empty fields for NaN).
std::string sanityMeansCsv(const SanityCascade& c);
std::string sanityRowsCsv(const SanityCascade& c);
// The runs' tables one after another under one header (sanity --mode both).
std::string sanityMeansCsv(const std::vector<const SanityCascade*>& runs);
std::string sanityRowsCsv(const std::vector<const SanityCascade*>& runs);

}  // namespace fs::analysis
