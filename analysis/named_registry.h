#pragma once
// A registration list of named classes (saliency methods, evaluation metrics): the factories in
// menu order, the names taken from the objects themselves, lookup by name with an error that lists
// the valid names.
#include "analysis/string_list.h"
#include "model/errors.h"

#include <memory>
#include <string>
#include <vector>

namespace fs::analysis {

template <class T>
class NamedRegistry {
 public:
  using Factory = std::unique_ptr<T> (*)();
  NamedRegistry(std::string what, std::vector<Factory> factories)
      : what_(std::move(what)), factories_(std::move(factories)) {
    for (Factory make : factories_) names_.push_back(make()->name());
  }
  const std::vector<std::string>& names() const { return names_; }
  // InputError "unknown <what> 'name' (valid: ...)" for a name not registered.
  std::unique_ptr<T> make(const std::string& name) const {
    for (size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return factories_[i]();
    throw fs::model::InputError("unknown " + what_ + " '" + name + "' (valid: " + joinList(names_) + ")");
  }

 private:
  std::string what_;
  std::vector<Factory> factories_;
  std::vector<std::string> names_;
};

}  // namespace fs::analysis
