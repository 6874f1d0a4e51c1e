#include "app/cli_bench_peer.h"

#include "model/errors.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

extern char** environ;

namespace fs::app {

PeerProcess::PeerProcess(const std::vector<std::string>& argv) {
  signal(SIGPIPE, SIG_IGN);  // a peer that died is reported by request(), not by a signal
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) throw fs::model::InputError("bench --peer: cannot create a pipe");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    throw fs::model::InputError("bench --peer: cannot create a pipe");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::vector<char*> args;
  for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]), close(out[1]);
  if (rc != 0) {
    close(in[1]), close(out[0]);
    throw fs::model::InputError("bench --peer: cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  to_ = fdopen(in[1], "w"), from_ = fdopen(out[0], "r");
  if (readLine() != "ready") {
    finish();
    throw fs::model::InputError("bench --peer: the Python peer did not start (" + argv[1] + ")");
  }
}

double PeerProcess::request(const std::string& model, const std::string& item, int64_t batch) {
  const std::string line = model + " " + item + " " + std::to_string(batch) + "\n";
  if (fputs(line.c_str(), to_) < 0 || fflush(to_) != 0)
    throw fs::model::InputError("bench --peer: the Python peer stopped before " + model + " " + item);
  const std::string answer = readLine();
  std::istringstream parse(answer);
  double ms = 0.0;
  if (!(parse >> ms) || ms < 0.0)
    throw fs::model::InputError("bench --peer: the Python peer failed on " + model + " " + item +
                                (answer.empty() ? std::string(" (no answer)") : " (answered '" + answer + "')"));
  return ms;
}

std::string PeerProcess::readLine() {
  std::string line;
  for (int c; (c = fgetc(from_)) != EOF && c != '\n';) line += static_cast<char>(c);
  return line;
}

void PeerProcess::finish() {
  if (to_) fclose(to_);
  if (from_) fclose(from_);
  to_ = from_ = nullptr;
  int status = 0;
  if (pid_ > 0) waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace fs::app
