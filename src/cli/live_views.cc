#include "cli/live_views.h"

#include <algorithm>

#include "cli/terminal.h"
#include "cli/verbs.h"
#include "common/quantity.h"
#include "common/strings.h"

namespace cloudai::cli {
namespace {

constexpr char kBold[] = "\033[1m";
constexpr char kGreen[] = "\033[32m";
constexpr char kRed[] = "\033[31m";
constexpr char kYellow[] = "\033[33m";
constexpr char kReset[] = "\033[0m";
constexpr char kHideCursor[] = "\033[?25l";
constexpr char kShowCursor[] = "\033[?25h";
constexpr char kClearLine[] = "\r\033[K";

bool IsFinished(const std::string& status) {
  return status == "completed" || status == "failed" || status == "cancelled" || status == "lost";
}

const char* StateColor(const std::string& status) {
  if (status == "completed" || status == "running") return kGreen;
  if (status == "failed" || status == "lost") return kRed;
  return kYellow;
}

std::string Paint(const std::string& text, const char* color, bool enabled) {
  return enabled ? StrCat(color, text, kReset) : text;
}

int Fail(const absl::Status& status, client::ClusterClient& client, const LiveIo& io) {
  return ReportFailure(status, client, io.err);
}

int64_t Now(const LiveIo& io) { return io.now_ms ? io.now_ms() : 0; }

size_t CountLines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Display width of UTF-8 text without ANSI sequences.
size_t Width(const std::string& text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\033') {
      while (i < text.size() && text[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++width;
  }
  return width;
}

// "[#####.....] 50.0%" (or with block characters).
std::string Bar(int64_t part, int64_t total, bool fancy) {
  constexpr int kCells = 20;
  const double share = total > 0 ? std::clamp(static_cast<double>(part) / total, 0.0, 1.0) : 0;
  const int filled = static_cast<int>(share * kCells + 0.5);
  std::string bar = fancy ? "" : "[";
  for (int i = 0; i < kCells; ++i) {
    bar += fancy ? (i < filled ? "\u2588" : "\u2591") : (i < filled ? "#" : ".");
  }
  if (!fancy) bar += "]";
  const int64_t tenths = static_cast<int64_t>(share * 1000 + 0.5);
  StrAppend(&bar, " ", tenths / 10, ".", tenths % 10, "%");
  if (fancy && share >= 0.9) return StrCat(kRed, bar, kReset);
  return bar;
}

// Redraws a frame in place: moves up over the previous one and clears below.
class Frame {
 public:
  explicit Frame(std::ostream& out) : out_(out) {}
  void Draw(const std::string& text) {
    if (lines_ > 0) out_ << "\r\033[" << lines_ << "A";
    out_ << "\033[J" << text;
    out_.flush();
    lines_ = CountLines(text);
  }

 private:
  std::ostream& out_;
  size_t lines_ = 0;
};

// Runs a live view: draws `frame()` every io.refresh until a key. Errors other than an
// unreachable master end the view.
int RunLive(client::ClusterClient& client, const LiveIo& io, const std::string& footer,
            const std::function<absl::StatusOr<std::string>()>& frame) {
  RawMode raw(io.key_fd);
  Frame screen(io.out);
  io.out << kHideCursor;
  int code = 0;
  for (;;) {
    absl::StatusOr<std::string> text = frame();
    if (!text.ok() && !client::IsUnreachable(text.status())) {
      screen.Draw("");
      code = Fail(text.status(), client, io);
      break;
    }
    std::string shown = text.ok() ? *text : "";
    if (!text.ok()) {
      StrAppend(&shown, Paint(StrCat("master at ", client.options().master_address,
                                     " unreachable, retrying: ",
                                     std::string(text.status().message())),
                              kRed, io.color),
                "\n");
    }
    screen.Draw(StrCat(shown, "\n", Paint(footer, "\033[2m", io.color), "\n"));
    if (WaitForKey(io.key_fd, io.refresh) != ReadResult::kTimeout) break;
  }
  io.out << kShowCursor;
  io.out.flush();
  return code;
}

std::string Spinner(int tick, bool fancy) {
  static const char* const kFancy[] = {"\u280b", "\u2819", "\u2839", "\u2838",
                                       "\u283c", "\u2834", "\u2826", "\u2827",
                                       "\u2807", "\u280f"};
  static const char* const kPlain[] = {"|", "/", "-", "\\"};
  return fancy ? kFancy[tick % 10] : kPlain[tick % 4];
}

// "waiting for a worker... (queued 3s, reason: ...)" for a task not yet running; "" once
// it runs or has ended.
std::string WaitingLine(const v1::TaskStatus& task, int64_t now_ms) {
  const std::string& status = task.status();
  if (status == "pending") {
    std::string line = "waiting for a worker...";
    std::string details;
    if (now_ms > 0 && task.created_at_ms() > 0) {
      StrAppend(&details, "queued ", FormatDuration(now_ms - task.created_at_ms()));
    }
    if (!task.last_error().empty()) {
      StrAppend(&details, details.empty() ? "" : ", ", "reason: ", task.last_error());
    }
    if (!details.empty()) StrAppend(&line, " (", details, ")");
    return line;
  }
  if (status == "scheduled") {
    return StrCat("starting on worker ", task.worker_id(), " (pulling the image if needed)...");
  }
  return "";
}

std::string FinalLine(const v1::TaskStatus& task, bool color) {
  std::string line =
      StrCat("Task ", task.task().task_id(), " ", Paint(task.status(), StateColor(task.status()), color));
  std::string details;
  if (task.has_exit_code()) StrAppend(&details, "exit code ", task.exit_code());
  if (task.started_at_ms() > 0 && task.completed_at_ms() > 0) {
    StrAppend(&details, details.empty() ? "" : ", ", "ran ",
              FormatDuration(task.completed_at_ms() - task.started_at_ms()));
  }
  if (!details.empty()) StrAppend(&line, " (", details, ")");
  if (!task.error().empty()) StrAppend(&line, ": ", task.error());
  return line;
}

// Reads the log from `*offset` on without following; appends it to `content`. Sets
// `*final` when the task has ended.
absl::Status ReadLogFrom(client::ClusterClient& client, const std::string& task_id,
                         int64_t* offset, std::string* content, bool* final) {
  v1::TaskLogRequest request;
  request.set_task_id(task_id);
  request.set_offset(*offset);
  return client.StreamTaskLogs(request, [&](const v1::LogChunk& chunk) {
    content->append(chunk.content());
    *offset += static_cast<int64_t>(chunk.content().size());
    if (chunk.is_final()) *final = true;
    return true;
  });
}

}  // namespace

ClusterSummary Summarize(const v1::ListWorkersResponse& workers,
                         const v1::QueueStatusResponse& queue) {
  ClusterSummary s;
  s.workers = workers.workers_size();
  s.queued_tasks = queue.tasks_size();
  for (const v1::WorkerStatus& w : workers.workers()) {
    s.running_tasks += w.running_task_ids_size();
    if (!w.is_active()) continue;
    ++s.active;
    s.total.set_cpu(s.total.cpu() + w.info().total_cpu());
    s.total.set_memory(s.total.memory() + w.info().total_memory());
    s.total.set_storage(s.total.storage() + w.info().total_storage());
    s.total.set_gpu(s.total.gpu() + w.info().total_gpu());
    s.allocated.set_cpu(s.allocated.cpu() + w.allocated().cpu());
    s.allocated.set_memory(s.allocated.memory() + w.allocated().memory());
    s.allocated.set_storage(s.allocated.storage() + w.allocated().storage());
    s.allocated.set_gpu(s.allocated.gpu() + w.allocated().gpu());
  }
  return s;
}

std::string RenderClusterStatus(const ClusterSummary& s, const RenderOptions& o) {
  const bool fancy = o.color;
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Workers", StrCat(s.workers, " total, ",
                         Paint(StrCat(s.active, " active"), s.active > 0 ? kGreen : kRed, fancy))},
      {"Tasks", StrCat(s.running_tasks, " running, ", s.queued_tasks, " queued")},
  };
  // Capacity rows: "used / total" padded to one width, then the bar.
  struct Capacity {
    const char* name;
    std::string amount;
    int64_t used, total;
  };
  std::vector<Capacity> capacity = {
      {"CPU", StrCat(FormatMillis(s.allocated.cpu()), " / ", FormatMillis(s.total.cpu())),
       s.allocated.cpu(), s.total.cpu()},
      {"Memory", StrCat(FormatGb(s.allocated.memory()), " / ", FormatGb(s.total.memory())),
       s.allocated.memory(), s.total.memory()},
      {"Storage", StrCat(FormatGb(s.allocated.storage()), " / ", FormatGb(s.total.storage())),
       s.allocated.storage(), s.total.storage()},
      {"GPU", StrCat(FormatMillis(s.allocated.gpu()), " / ", FormatMillis(s.total.gpu())),
       s.allocated.gpu(), s.total.gpu()},
  };
  size_t amount_width = 0;
  for (const Capacity& c : capacity) amount_width = std::max(amount_width, c.amount.size());
  for (Capacity& c : capacity) {
    c.amount.resize(amount_width, ' ');
    rows.emplace_back(c.name, c.total > 0 ? StrCat(c.amount, "  ", Bar(c.used, c.total, fancy))
                                          : StrCat(c.amount, "  -"));
  }
  if (o.now_ms > 0) rows.emplace_back("Updated", FormatTime(o.now_ms));
  std::vector<std::string> lines;
  for (auto& [label, value] : rows) {
    std::string key = label;
    key.resize(10, ' ');
    lines.push_back(StrCat(key, value));
  }
  const std::string title = "Cluster status";
  if (!fancy) {
    std::string out = StrCat(title, " (capacity used: allocated / total of active workers)\n");
    for (const std::string& line : lines) StrAppend(&out, "  ", line, "\n");
    return out;
  }
  size_t width = title.size() + 4;
  for (const std::string& line : lines) width = std::max(width, Width(line));
  std::string rule;
  for (size_t i = 0; i < width + 2; ++i) rule += "\u2500";
  std::string top = StrCat("\u250c\u2500 ", kBold, title, kReset, " ");
  for (size_t i = title.size() + 3; i < width + 2; ++i) top += "\u2500";
  std::string out = StrCat(top, "\u2510\n");
  for (const std::string& line : lines) {
    StrAppend(&out, "\u2502 ", line, std::string(width - Width(line), ' '), " \u2502\n");
  }
  StrAppend(&out, "\u2514", rule, "\u2518\n");
  return out;
}

int ShowStatus(client::ClusterClient& client, const LiveIo& io) {
  const auto frame = [&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<v1::ListWorkersResponse> workers = client.ListWorkers();
    if (!workers.ok()) return workers.status();
    absl::StatusOr<v1::QueueStatusResponse> queue = client.QueueStatus();
    if (!queue.ok()) return queue.status();
    RenderOptions o;
    o.color = io.color;
    o.now_ms = Now(io);
    return RenderClusterStatus(Summarize(*workers, *queue), o);
  };
  if (io.key_fd < 0) {
    absl::StatusOr<std::string> text = frame();
    if (!text.ok()) return Fail(text.status(), client, io);
    io.out << *text;
    return 0;
  }
  return RunLive(client, io, "Refreshed every 2 s. Press any key to leave.", frame);
}

int ShowWorkerStats(client::ClusterClient& client, const std::string& worker_id,
                    const LiveIo& io) {
  const auto frame = [&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<v1::WorkerStatus> worker = client.GetWorker(worker_id);
    if (!worker.ok()) return worker.status();
    RenderOptions o;
    o.color = io.color;
    o.now_ms = Now(io);
    return RenderWorkerStats(*worker, o);
  };
  if (io.key_fd < 0) {
    absl::StatusOr<std::string> text = frame();
    if (!text.ok()) return Fail(text.status(), client, io);
    io.out << *text;
    return 0;
  }
  return RunLive(client, io,
                 StrCat("Worker ", worker_id, ": refreshed every 2 s. Press any key to leave."),
                 frame);
}

int MonitorTask(client::ClusterClient& client, const std::string& task_id, const LiveIo& io) {
  absl::StatusOr<v1::TaskStatus> task = client.GetTask(task_id);
  if (!task.ok()) return Fail(task.status(), client, io);
  int64_t offset = 0;
  std::string content;
  bool final = false;
  if (io.key_fd < 0) {
    if (absl::Status s = ReadLogFrom(client, task_id, &offset, &content, &final); !s.ok()) {
      return Fail(s, client, io);
    }
    io.out << content;
    if (!content.empty() && content.back() != '\n') io.out << "\n";
    if (final || IsFinished(task->status())) {
      if (absl::StatusOr<v1::TaskStatus> last = client.GetTask(task_id); last.ok()) task = last;
      io.out << FinalLine(*task, false) << "\n";
    } else {
      io.out << "Task " << task_id << " is " << task->status();
      if (!task->worker_id().empty()) io.out << " on worker " << task->worker_id();
      io.out << " (follow it with: logs -f " << task_id << ")\n";
    }
    return 0;
  }

  RawMode raw(io.key_fd);
  io.out << Paint(StrCat("Monitoring task ", task_id, " (", task->task().docker_image(),
                         "). Press any key to leave."),
                  kBold, io.color)
         << "\n";
  io.out.flush();
  bool at_line_start = true;
  bool progress_shown = false;
  int tick = 0;
  std::string status = task->status();
  for (;;) {
    content.clear();
    const absl::Status read = ReadLogFrom(client, task_id, &offset, &content, &final);
    if (!read.ok() && !client::IsUnreachable(read)) {
      if (progress_shown) io.out << kClearLine;
      return Fail(read, client, io);
    }
    if (!content.empty()) {
      if (progress_shown) io.out << kClearLine;
      progress_shown = false;
      io.out << content;
      at_line_start = content.back() == '\n';
    }
    if (final) break;
    // Progress while the task waits, and while the master cannot be reached.
    std::string progress;
    if (!read.ok()) {
      progress = StrCat("master unreachable, retrying: ", std::string(read.message()));
    } else if (status == "pending" || status == "scheduled" || offset == 0) {
      absl::StatusOr<v1::TaskStatus> now = client.GetTask(task_id);
      if (now.ok()) {
        status = now->status();
        progress = WaitingLine(*now, Now(io));
      }
    }
    if (at_line_start) {
      if (!progress.empty()) {
        io.out << kClearLine << Spinner(tick++, io.color) << " " << progress;
        progress_shown = true;
      } else if (progress_shown) {
        io.out << kClearLine;
        progress_shown = false;
      }
    }
    io.out.flush();
    if (WaitForKey(io.key_fd, io.poll) != ReadResult::kTimeout) {
      if (progress_shown) io.out << kClearLine;
      if (!at_line_start) io.out << "\n";
      io.out << "Left the monitor; task " << task_id << " goes on. Back with: monitor "
             << task_id << "\n";
      io.out.flush();
      return 0;
    }
  }
  if (progress_shown) io.out << kClearLine;
  if (!at_line_start) io.out << "\n";
  if (absl::StatusOr<v1::TaskStatus> last = client.GetTask(task_id); last.ok()) task = last;
  io.out << FinalLine(*task, io.color) << "\n";
  io.out.flush();
  return 0;
}

void WaitForStart(client::ClusterClient& client, const std::string& task_id, const LiveIo& io) {
  if (io.key_fd < 0) return;
  RawMode raw(io.key_fd);
  bool shown = false;
  for (int tick = 0;; ++tick) {
    absl::StatusOr<v1::TaskStatus> task = client.GetTask(task_id);
    if (!task.ok()) break;
    const std::string line = WaitingLine(*task, Now(io));
    if (line.empty()) {
      if (shown) io.out << kClearLine;
      io.out << "Task " << task_id << " "
             << Paint(task->status(), StateColor(task->status()), io.color);
      if (!task->worker_id().empty()) io.out << " on worker " << task->worker_id();
      io.out << "\n";
      break;
    }
    io.out << kClearLine << Spinner(tick, io.color) << " Task " << task_id << ": " << line
           << "  (any key: stop waiting)";
    io.out.flush();
    shown = true;
    if (WaitForKey(io.key_fd, io.poll) != ReadResult::kTimeout) {
      io.out << kClearLine << "Stopped waiting; task " << task_id << " is still "
             << task->status() << ".\n";
      break;
    }
  }
  io.out.flush();
}

}  // namespace cloudai::cli
