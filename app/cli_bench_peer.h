#pragma once
// bench --peer's Python peer (resources/bench/peer.py --serve) as a child process: it builds its
// models once, then answers each request line "MODEL ITEM [BATCH]" with the time in ms, so that its
// runs can alternate with ours (cli_bench.cpp).
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace fs::app {

class PeerProcess {
 public:
  // Starts argv (argv[0] the interpreter's path) and waits for its "ready"; InputError if it
  // cannot start or does not say so.
  explicit PeerProcess(const std::vector<std::string>& argv);
  ~PeerProcess() { finish(); }
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  // The peer's time in ms for one run of ITEM on MODEL; InputError naming them if it fails.
  double request(const std::string& model, const std::string& item, int64_t batch = 16);

 private:
  std::string readLine();
  // Closes its input (the peer exits at the end of it) and waits for it.
  void finish();

  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

}  // namespace fs::app
