#pragma once
// Shared by the view tests that choose their own models: a shown window with no model loaded.
#include "desktop_test_support.h"

namespace fs::ui::test {

inline std::unique_ptr<MainWindow> windowWithoutModels(int width, int height) {
  auto w = newWindow();
  w->resize(width, height);
  AnalysisSession* s = w->session();
  for (int i = 0; i < fs::service::kMaxSlots; ++i)
    if (s->slot(i).loaded) s->removeSlot(i);
  return w;
}

}  // namespace fs::ui::test
