#pragma once
// The inference worker: a QObject moved to its own QThread that owns the session services
// (service/session.h, and so every model). GUI-thread code submits typed jobs (ui/jobs.h); each
// submit returns a request id. A newer request with the same key supersedes queued stale ones
// (they are skipped) and cancels the running one, silently; cancel() stops the running long job
// between steps and reports it as failed("... cancelled"). Every request ends with exactly one of
// done(id, result) / failed() / nothing (skipped or superseded), followed by finished(id).
#include "ui/jobs.h"
#include "ui/session_types.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

namespace fs::service {
class Session;
}

namespace fs::ui {

class Worker : public QObject {
  Q_OBJECT

 public:
  Worker();
  ~Worker() override;  // stops and joins the thread

  // GUI thread: queue a job; returns its id.
  quint64 submit(JobRequest request);
  // Any thread: cancels the running job and every job queued so far.
  void cancel();

 Q_SIGNALS:
  void done(quint64 id, const fs::ui::JobResult& result);
  void progress(quint64 id, double fraction, const QString& what);
  void failed(quint64 id, const QString& message);
  void finished(quint64 id);

 private:
  void run(quint64 id, const QString& key, const QString& what, const JobRequest& request);

  QThread thread_;
  std::unique_ptr<fs::service::Session> session_;  // used on thread_ only
  std::mutex mutex_;
  quint64 nextId_ = 1;
  quint64 cancelBefore_ = 0;             // jobs with id < this are cancelled
  std::map<QString, quint64> latest_;    // key -> newest id
  QString runningKey_;
  std::atomic<bool> cancel_{false};
};

}  // namespace fs::ui
