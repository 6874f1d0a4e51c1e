#pragma once
// The sparse linear system of ROAD's noisy linear imputation (Rong et al. 2022, "A Consistent and
// Efficient Evaluation Strategy for Attribution Methods", ICML; faithfulness_metrics.h) and its
// solvers. Every removed pixel equals the weighted mean of its in-image 8 neighbours (1/6 direct,
// 1/12 diagonal), the known pixels fixed: A x = b over the removed pixels with A_ii = the sum of the
// in-image neighbours' weights, A_ij = -w for a removed neighbour j, b_i = sum of w * value over the
// known neighbours. A is symmetric positive definite when some pixel is known.
//
// The direct solver is a sparse Cholesky factorisation A = L L^T in nested-dissection order (George
// 1973, "Nested Dissection of a Regular Finite Element Mesh", SIAM J. Numer. Anal.), computed by the
// multifrontal method (Duff & Reid 1983, "The Multifrontal Solution of Indefinite Sparse Symmetric
// Linear Equations", ACM TOMS): the image is split recursively by a middle row or column (one pixel
// wide, which separates the 8-neighbour graph), each part is eliminated before its separator, and
// each front is a small dense matrix. On a k x k image it costs about 10 k^3 multiply-adds against
// k^4 / 2 for a band factorisation in raster order, and one factorisation serves every channel.
// Conjugate gradients (Jacobi preconditioned, to a relative residual of 1e-8) remain for images too
// large for the factor's memory.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace fs::analysis::imputation {

// An allocator whose resize() leaves new doubles uninitialised: the factor's stores are written
// before they are read, and zero-filling them was a twentieth of an imputation (memset).
template <typename T>
struct UninitialisedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitialisedAllocator<U>;
  };
  UninitialisedAllocator() = default;
  template <typename U>
  UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <typename T>
using UninitialisedVector = std::vector<T, UninitialisedAllocator<T>>;
using UninitialisedDoubles = UninitialisedVector<double>;

struct System {
  int64_t h = 0, w = 0;
  std::vector<int64_t> pixels;  // removed pixels, raster order; the unknowns' order
  std::vector<int64_t> index;   // [h*w]: the unknown of a pixel, -1 if known
  std::vector<double> diag;
  std::vector<int64_t> linkStart, knownStart;
  UninitialisedVector<int64_t> link;  // removed neighbours of i: link[linkStart[i] .. linkStart[i+1])
  UninitialisedDoubles linkWeight;
  UninitialisedVector<int64_t> known;  // known neighbours of i (pixel index): known[knownStart[i] ..)
  UninitialisedDoubles knownWeight;
};

System buildSystem(const bool* removed, int64_t h, int64_t w);
// The same into s, whose vectors keep their storage for the next system (an imputation's
// allocations and first-touch page faults were an eighth of its time; tests/bench/road_imputation).
void buildSystem(const bool* removed, int64_t h, int64_t w, System& s);

// b for one channel's pixel values v [h*w].
std::vector<double> rightHandSide(const System& s, const double* v);

// Jacobi-preconditioned conjugate gradients to a relative residual of 1e-8.
std::vector<double> conjugateGradients(const System& s, const std::vector<double>& b);

// The nested-dissection multifrontal Cholesky factor of a System. One object factorises system
// after system: each factorise() replaces the last factor and reuses its storage.
class NestedDissection {
 public:
  // False from factorise() when A is not positive definite (no pixel known).
  bool factorise(const System& s);
  // x = A^-1 b (b in the System's unknown order).
  std::vector<double> solve(std::vector<double> b) const;
  // The same for nc right-hand sides at once, interleaved: x[u * nc + c] (one pass over the factor).
  void solveInterleaved(std::vector<double>& x, size_t nc) const;
  // The factor's size in doubles, for a system of n unknowns on an h x w image (an upper bound
  // used to choose the solver: 8 n log2(min(h, w))).
  static double memoryEstimate(int64_t n, int64_t h, int64_t w);

 private:
  struct Node {
    std::vector<int64_t> own, boundary;  // unknowns eliminated here, later unknowns they reach
    size_t l = 0;  // where the front's first own.size() columns of L start in lStore_ (column-major)
    int left = -1, right = -1;
  };
  void buildTree(const System& s);         // nodes_: the recursive split of the image
  Node& nextNode();                        // nodes_[used_], emptied, its vectors' storage kept
  void orderBoundaries(size_t unknowns);   // each boundary in its parent's front order
  bool eliminate(const System& s);         // lStore_: the partial factorisation of every front
  void addChildUpdates(const Node& node, double* front, size_t f);

  std::vector<Node> nodes_;  // [0, used_): children before parents (postorder); the rest spare
  size_t used_ = 0;
  UninitialisedDoubles lStore_;  // every node's columns of L, one block each
  // Working storage, kept between factorisations.
  std::vector<int64_t> prefix_, pos_, ordered_;
  std::vector<int> mark_;
  UninitialisedDoubles stack_;
  std::vector<double> work_;  // the front; zero-filled where it grows: see eliminate()
  std::vector<size_t> stackTop_, childPos_;
};

}  // namespace fs::analysis::imputation
