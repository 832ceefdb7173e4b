#include "worker/docker/docker_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "worker/docker/fake_docker_engine.h"

namespace cloudai::worker::docker {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string Frame(int stream, std::string_view payload) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  const auto n = static_cast<uint32_t>(payload.size());
  out[4] = static_cast<char>(n >> 24);
  out[5] = static_cast<char>(n >> 16);
  out[6] = static_cast<char>(n >> 8);
  out[7] = static_cast<char>(n);
  out.append(payload);
  return out;
}

class DockerClientTest : public ::testing::Test {
 protected:
  DockerClientOptions Options() {
    DockerClientOptions o;
    o.endpoint = engine_.endpoint();
    o.request_timeout = milliseconds(5000);
    return o;
  }

  FakeDockerEngine engine_;
};

TEST_F(DockerClientTest, PingAndVersion) {
  DockerClient client(Options());
  EXPECT_TRUE(client.Ping().ok());
  absl::StatusOr<VersionInfo> version = client.Version();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->api_version, "1.41");
  EXPECT_EQ(version->min_api_version, "1.12");
  EXPECT_EQ(version->version, "20.10.24-fake");
  EXPECT_EQ(client.api_version(), "");
}

TEST_F(DockerClientTest, NegotiatesDownToAnOlderEngine) {
  engine_.SetApiVersion("1.40");
  engine_.Route("GET", "/v1.40/containers/abc/json",
                [](const RecordedRequest&, FakeResponder& out) {
                  out.RespondJson(200, {{"Id", "abc"}});
                });
  DockerClient client(Options());
  absl::StatusOr<ContainerInfo> info = client.InspectContainer("abc");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->id, "abc");
  EXPECT_EQ(client.api_version(), "1.40");
  // Negotiated once, not per call.
  ASSERT_TRUE(client.InspectContainer("abc").ok());
  int version_calls = 0;
  for (const RecordedRequest& r : engine_.requests()) version_calls += r.path == "/version";
  EXPECT_EQ(version_calls, 1);
}

TEST_F(DockerClientTest, KeepsItsOwnVersionWithANewerEngine) {
  engine_.SetApiVersion("1.43");
  DockerClient client(Options());
  absl::StatusOr<std::string> version = client.NegotiateApiVersion();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, "1.41");
  EXPECT_EQ(CompareApiVersions("1.9", "1.41"), -1);
  EXPECT_EQ(CompareApiVersions("1.41", "1.41"), 0);
  EXPECT_EQ(CompareApiVersions("2.0", "1.99"), 1);
}

TEST_F(DockerClientTest, RefusesAnEngineItCannotSpeakTo) {
  engine_.SetApiVersion("1.50", "1.44");
  DockerClient client(Options());
  absl::StatusOr<std::string> version = client.NegotiateApiVersion();
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(version.status().message().find("1.44"), absl::string_view::npos) << version.status();
  EXPECT_FALSE(client.StartContainer("abc").ok());

  engine_.SetApiVersion("1.24", "1.12");
  EXPECT_EQ(client.NegotiateApiVersion().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DockerClientTest, ImageExists) {
  engine_.Route("GET", "/v1.41/images/cloudai-test:busybox/json",
                [](const RecordedRequest&, FakeResponder& out) {
                  out.RespondJson(200, {{"Id", "sha256:abc"}});
                });
  engine_.Route("GET", "/v1.41/images/localhost:5000/team/app:1/json",
                [](const RecordedRequest&, FakeResponder& out) {
                  out.RespondJson(404, {{"message", "No such image: localhost:5000/team/app:1"}});
                });
  DockerClient client(Options());
  absl::StatusOr<bool> exists = client.ImageExists("cloudai-test:busybox");
  ASSERT_TRUE(exists.ok()) << exists.status();
  EXPECT_TRUE(*exists);
  exists = client.ImageExists("localhost:5000/team/app:1");
  ASSERT_TRUE(exists.ok()) << exists.status();
  EXPECT_FALSE(*exists);
  EXPECT_EQ(client.ImageExists("bad image").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DockerClientTest, PullReportsProgress) {
  engine_.Route("POST", "/v1.41/images/create", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    out.Chunk("{\"status\":\"Pulling from team/app\",\"id\":\"1.0\"}\r\n{\"status\":\"Pull");
    out.Chunk("ing fs layer\",\"progressDetail\":{},\"id\":\"3f4d90098f5b\"}\r\n");
    out.Chunk(
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":12345678,\"total\":"
        "40000000},\"progress\":\"[=>  ] 12.35MB/40MB\",\"id\":\"3f4d90098f5b\"}\r\n");
    out.Chunk(
        "{\"status\":\"Status: Downloaded newer image for localhost:5000/team/app:1.0\"}\r\n");
    out.EndChunked();
  });
  DockerClient client(Options());
  std::vector<std::string> lines;
  absl::Status s = client.PullImage("localhost:5000/team/app:1.0",
                                    [&](const PullProgress& p) { lines.push_back(p.ToString()); });
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1], "3f4d90098f5b: Pulling fs layer");
  EXPECT_EQ(lines[2], "3f4d90098f5b: Downloading 12.35MB/40MB");
  EXPECT_EQ(lines[3], "Status: Downloaded newer image for localhost:5000/team/app:1.0");
  RecordedRequest r = engine_.LastRequest("POST", "/v1.41/images/create");
  EXPECT_EQ(r.query["fromImage"], "localhost:5000/team/app");
  EXPECT_EQ(r.query["tag"], "1.0");

  ASSERT_TRUE(client.PullImage("busybox", nullptr).ok());
  r = engine_.LastRequest("POST", "/v1.41/images/create");
  EXPECT_EQ(r.query["fromImage"], "busybox");
  EXPECT_EQ(r.query["tag"], "latest");

  ASSERT_TRUE(client.PullImage("app@sha256:0123abcd", nullptr).ok());
  r = engine_.LastRequest("POST", "/v1.41/images/create");
  EXPECT_EQ(r.query["fromImage"], "app");
  EXPECT_EQ(r.query["tag"], "sha256:0123abcd");
}

TEST_F(DockerClientTest, PullErrorInTheStream) {
  engine_.Route("POST", "/v1.41/images/create", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    out.Chunk("{\"status\":\"Pulling from team/app\",\"id\":\"2.0\"}\r\n");
    out.Chunk(
        "{\"errorDetail\":{\"message\":\"manifest for localhost:5000/team/app:2.0 not found: "
        "manifest unknown\"},\"error\":\"manifest for localhost:5000/team/app:2.0 not found: "
        "manifest unknown\"}\r\n");
    out.EndChunked();
  });
  DockerClient client(Options());
  int progress = 0;
  absl::Status s =
      client.PullImage("localhost:5000/team/app:2.0", [&](const PullProgress&) { ++progress; });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(progress, 1);
  EXPECT_EQ(s.message(),
            "pulling image localhost:5000/team/app:2.0: manifest for "
            "localhost:5000/team/app:2.0 not found: manifest unknown");
}

TEST_F(DockerClientTest, PullHttpErrorCarriesTheEnginesMessage) {
  engine_.Route("POST", "/v1.41/images/create", [](const RecordedRequest&, FakeResponder& out) {
    out.RespondJson(500, {{"message",
                           "Get \"https://nowhere.invalid/v2/\": dial tcp: lookup "
                           "nowhere.invalid: no such host"}});
  });
  DockerClient client(Options());
  absl::Status s = client.PullImage("nowhere.invalid/app:1", nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(),
            "pulling image nowhere.invalid/app:1: docker POST /v1.41/images/create: HTTP 500 "
            "Internal Server Error: Get \"https://nowhere.invalid/v2/\": dial tcp: lookup "
            "nowhere.invalid: no such host");
}

TEST_F(DockerClientTest, PullCutShortIsAnError) {
  engine_.Route("POST", "/v1.41/images/create", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    out.Chunk("{\"status\":\"Pulling fs layer\",\"id\":\"abc\"}\r\n");
    out.CloseAfter();
  });
  DockerClient client(Options());
  absl::Status s = client.PullImage("busybox", nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("pulling image busybox"), absl::string_view::npos) << s;
}

TEST_F(DockerClientTest, CreateSendsTheSpec) {
  engine_.Route("POST", "/v1.41/containers/create", [](const RecordedRequest&, FakeResponder& out) {
    out.RespondJson(201, {{"Id", "c0ffee"}, {"Warnings", nlohmann::json::array()}});
  });
  DockerClient client(Options());
  ContainerSpec spec;
  spec.task_id = "task-7";
  spec.name = "cloudai-task-7";
  spec.image = "cloudai-test:busybox";
  spec.command = "echo hello; echo oops >&2; exit 3";
  spec.env = {{"CLOUDAI_TASK_ID", "task-7"}};
  spec.cpu_millis = 250;
  spec.memory_mib = 64;
  spec.gpus.count = GpusForMillis(1000);
  absl::StatusOr<std::string> id = client.CreateContainer(spec);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "c0ffee");

  RecordedRequest r = engine_.LastRequest("POST", "/v1.41/containers/create");
  EXPECT_EQ(r.query["name"], "cloudai-task-7");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  const nlohmann::json body = r.Json();
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body["Image"], "cloudai-test:busybox");
  EXPECT_EQ(body["Cmd"],
            nlohmann::json::array({"/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"}));
  EXPECT_EQ(body["Env"], nlohmann::json::array({"CLOUDAI_TASK_ID=task-7"}));
  EXPECT_EQ(body["Labels"]["cloudai.task_id"], "task-7");
  EXPECT_EQ(body["Labels"]["cloudai.managed"], "true");
  EXPECT_EQ(body["HostConfig"]["NanoCpus"], 250'000'000);
  EXPECT_EQ(body["HostConfig"]["Memory"], 64 * 1024 * 1024);
  EXPECT_EQ(body["HostConfig"]["DeviceRequests"],
            nlohmann::json::parse(R"([{"Driver":"nvidia","Count":1,"Capabilities":[["gpu"]]}])"));
}

TEST_F(DockerClientTest, CreateErrorsSayWhatFailed) {
  engine_.Route("POST", "/v1.41/containers/create", [](const RecordedRequest&, FakeResponder& out) {
    out.RespondJson(404, {{"message", "No such image: cloudai-test:missing"}});
  });
  DockerClient client(Options());
  ContainerSpec spec;
  spec.task_id = "t";
  spec.image = "cloudai-test:missing";
  absl::StatusOr<std::string> id = client.CreateContainer(spec);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(id.status().message(),
            "docker POST /v1.41/containers/create: HTTP 404 Not Found: No such image: "
            "cloudai-test:missing");

  spec.task_id.clear();  // invalid: nothing is sent
  const size_t before = engine_.requests().size();
  EXPECT_EQ(client.CreateContainer(spec).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_.requests().size(), before);
}

TEST_F(DockerClientTest, GpuTasksNeedApi140) {
  engine_.SetApiVersion("1.39");
  DockerClient client(Options());
  ContainerSpec spec;
  spec.task_id = "t";
  spec.image = "cuda:12";
  spec.gpus.count = 1;
  absl::StatusOr<std::string> id = client.CreateContainer(spec);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition) << id.status();
}

TEST_F(DockerClientTest, LifecycleCalls) {
  engine_.Route("POST", "/v1.41/containers/c1/start",
                [](const RecordedRequest&, FakeResponder& out) { out.Respond(204, ""); });
  engine_.Route("POST", "/v1.41/containers/c2/start",
                [](const RecordedRequest&, FakeResponder& out) { out.Respond(304, ""); });
  engine_.Route("POST", "/v1.41/containers/c1/wait",
                [](const RecordedRequest&, FakeResponder& out) {
                  std::this_thread::sleep_for(milliseconds(20));
                  out.StartChunked(200);  // the engine answers waits chunked
                  out.Chunk("{\"Error\":null,");
                  out.Chunk("\"StatusCode\":3}\n");
                  out.EndChunked();
                });
  engine_.Route("POST", "/v1.41/containers/c1/stop",
                [](const RecordedRequest&, FakeResponder& out) { out.Respond(304, ""); });
  engine_.Route("POST", "/v1.41/containers/c1/kill",
                [](const RecordedRequest&, FakeResponder& out) {
                  out.RespondJson(409, {{"message", "Container c1 is not running"}});
                });
  engine_.Route("DELETE", "/v1.41/containers/c1",
                [](const RecordedRequest&, FakeResponder& out) { out.Respond(204, ""); });
  DockerClient client(Options());
  EXPECT_TRUE(client.StartContainer("c1").ok());
  EXPECT_TRUE(client.StartContainer("c2").ok());  // already running
  absl::StatusOr<int64_t> code = client.WaitContainer("c1");
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(engine_.LastRequest("POST", "/v1.41/containers/c1/wait").query["condition"],
            "not-running");
  EXPECT_TRUE(client.StopContainer("c1", std::chrono::seconds(5)).ok());
  EXPECT_EQ(engine_.LastRequest("POST", "/v1.41/containers/c1/stop").query["t"], "5");
  absl::Status kill = client.KillContainer("c1");
  EXPECT_EQ(kill.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(kill.message().find("HTTP 409"), absl::string_view::npos) << kill;
  EXPECT_NE(kill.message().find("Container c1 is not running"), absl::string_view::npos) << kill;
  EXPECT_EQ(engine_.LastRequest("POST", "/v1.41/containers/c1/kill").query["signal"], "SIGKILL");
  EXPECT_TRUE(client.RemoveContainer("c1", /*force=*/true).ok());
  RecordedRequest r = engine_.LastRequest("DELETE", "/v1.41/containers/c1");
  EXPECT_EQ(r.query["force"], "1");
  EXPECT_EQ(r.query["v"], "1");

  absl::Status missing = client.StartContainer("nope");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client.StartContainer("../images").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.KillContainer("c1", "KILL;rm").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DockerClientTest, WaitErrorAndCancel) {
  engine_.Route(
      "POST", "/v1.41/containers/bad/wait", [](const RecordedRequest&, FakeResponder& out) {
        out.RespondJson(200, {{"StatusCode", -1}, {"Error", {{"Message", "container vanished"}}}});
      });
  engine_.Route("POST", "/v1.41/containers/slow/wait",
                [](const RecordedRequest&, FakeResponder& out) { out.Hang(milliseconds(10000)); });
  DockerClient client(Options());
  absl::StatusOr<int64_t> code = client.WaitContainer("bad");
  EXPECT_EQ(code.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(code.status().message().find("container vanished"), absl::string_view::npos);

  // Waits have no time limit of their own (containers run for hours); stop ends them.
  std::stop_source stop;
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(100));
    stop.request_stop();
  });
  const auto start = steady_clock::now();
  code = client.WaitContainer("slow", stop.get_token());
  canceller.join();
  EXPECT_EQ(code.status().code(), absl::StatusCode::kCancelled) << code.status();
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
}

TEST_F(DockerClientTest, Inspect) {
  engine_.Route("GET", "/v1.41/containers/c1/json", [](const RecordedRequest&, FakeResponder& out) {
    out.Respond(200, R"({
      "Id": "c1ffff", "Name": "/cloudai-task-7",
      "State": {"Status": "exited", "Running": false, "OOMKilled": false, "Pid": 0,
                "ExitCode": 3, "Error": "",
                "StartedAt": "2024-05-01T12:00:00.123456789Z",
                "FinishedAt": "2024-05-01T12:00:01.5+00:00"},
      "Config": {"Image": "cloudai-test:busybox", "Tty": false,
                 "Cmd": ["/bin/sh", "-c", "exit 3"], "Env": ["A=1"],
                 "Labels": {"cloudai.task_id": "task-7", "cloudai.managed": "true"}},
      "HostConfig": {"NanoCpus": 250000000, "Memory": 67108864, "NetworkMode": "default"}
    })");
  });
  engine_.Route("GET", "/v1.41/containers/c2/json", [](const RecordedRequest&, FakeResponder& out) {
    out.Respond(200, R"({"Id": "c2", "Name": null,
      "State": {"Status": "created", "Running": false, "ExitCode": 0,
                "StartedAt": "0001-01-01T00:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z"},
      "Config": {"Labels": null, "Cmd": null}, "HostConfig": null})");
  });
  engine_.Route("GET", "/v1.41/containers/c3/json", [](const RecordedRequest&, FakeResponder& out) {
    out.Respond(200, "this is not json", "text/plain");
  });
  DockerClient client(Options());
  absl::StatusOr<ContainerInfo> info = client.InspectContainer("c1");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->id, "c1ffff");
  EXPECT_EQ(info->name, "cloudai-task-7");
  EXPECT_EQ(info->image, "cloudai-test:busybox");
  EXPECT_EQ(info->state.status, "exited");
  EXPECT_FALSE(info->state.running);
  EXPECT_EQ(info->state.exit_code, 3);
  EXPECT_EQ(info->state.started_at_ms, 1714564800123);
  EXPECT_EQ(info->state.finished_at_ms, 1714564801500);
  EXPECT_EQ(info->labels.at("cloudai.task_id"), "task-7");
  EXPECT_EQ(info->cmd, (std::vector<std::string>{"/bin/sh", "-c", "exit 3"}));
  EXPECT_EQ(info->nano_cpus, 250000000);
  EXPECT_EQ(info->memory_bytes, 67108864);

  info = client.InspectContainer("c2");  // nulls everywhere: defaults, no crash
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->state.status, "created");
  EXPECT_EQ(info->state.started_at_ms, 0);
  EXPECT_TRUE(info->labels.empty());

  info = client.InspectContainer("c3");
  EXPECT_EQ(info.status().code(), absl::StatusCode::kInternal);

  info = client.InspectContainer("c4");
  EXPECT_EQ(info.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(info.status().message().find("GET /v1.41/containers/c4/json"), absl::string_view::npos)
      << info.status();
}

TEST_F(DockerClientTest, ParseDockerTime) {
  EXPECT_EQ(ParseDockerTime("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(ParseDockerTime("1970-01-01T00:00:01.5Z").value(), 1500);
  EXPECT_EQ(ParseDockerTime("1970-01-01T01:00:00+01:00").value(), 0);
  EXPECT_EQ(ParseDockerTime("0001-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(ParseDockerTime("").value(), 0);
  EXPECT_FALSE(ParseDockerTime("yesterday").ok());
  EXPECT_FALSE(ParseDockerTime("2024-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseDockerTime("2024-01-01T00:00:00").ok());
}

TEST_F(DockerClientTest, ListByLabel) {
  engine_.Route("GET", "/v1.41/containers/json", [](const RecordedRequest&, FakeResponder& out) {
    out.Respond(200, R"([
      {"Id": "c1", "Names": ["/cloudai-task-7"], "Image": "cloudai-test:busybox",
       "State": "running", "Status": "Up 2 minutes", "Created": 1714564800,
       "Labels": {"cloudai.task_id": "task-7", "cloudai.managed": "true"}},
      {"Id": "c2", "Names": null, "Labels": null}
    ])");
  });
  DockerClient client(Options());
  ListContainersOptions options;
  options.labels = {"cloudai.managed=true"};
  absl::StatusOr<std::vector<ContainerSummary>> list = client.ListContainers(options);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "c1");
  EXPECT_EQ((*list)[0].names, std::vector<std::string>{"cloudai-task-7"});
  EXPECT_EQ((*list)[0].state, "running");
  EXPECT_EQ((*list)[0].labels.at("cloudai.task_id"), "task-7");
  EXPECT_EQ((*list)[0].created_unix_s, 1714564800);
  RecordedRequest r = engine_.LastRequest("GET", "/v1.41/containers/json");
  EXPECT_EQ(r.query["all"], "1");
  EXPECT_EQ(nlohmann::json::parse(r.query["filters"]),
            nlohmann::json::parse(R"({"label":["cloudai.managed=true"]})"));
}

TEST_F(DockerClientTest, LogsDemultiplexAcrossAwkwardChunks) {
  const std::string stream = Frame(1, "hello\n") + Frame(2, "oops\n") +
                             Frame(1, std::string(40000, 'x')) + Frame(2, "second err\n") +
                             Frame(1, "bye\n");
  engine_.Route("GET", "/v1.41/containers/c1/logs",
                [stream](const RecordedRequest&, FakeResponder& out) {
                  out.StartChunked(200, "application/vnd.docker.raw-stream");
                  // Cut inside headers and payloads: 3, 5, 7, 11, ... bytes, each flushed on its
                  // own.
                  size_t pos = 0;
                  for (size_t step : {3, 5, 7, 11, 13, 1, 2, 9000, 17, 31000}) {
                    if (pos >= stream.size()) break;
                    out.Chunk(std::string_view(stream).substr(pos, step));
                    pos += step;
                    std::this_thread::sleep_for(milliseconds(1));
                  }
                  if (pos < stream.size()) out.Chunk(std::string_view(stream).substr(pos));
                  out.EndChunked();
                });
  DockerClient client(Options());
  std::string out_text, err_text;
  LogsOptions options;
  options.follow = true;
  options.since_unix_ms = 1714564800123;
  absl::Status s = client.Logs("c1", options, [&](LogStream stream, std::string_view data) {
    (stream == LogStream::kStderr ? err_text : out_text).append(data);
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out_text, "hello\n" + std::string(40000, 'x') + "bye\n");
  EXPECT_EQ(err_text, "oops\nsecond err\n");
  RecordedRequest r = engine_.LastRequest("GET", "/v1.41/containers/c1/logs");
  EXPECT_EQ(r.query["stdout"], "1");
  EXPECT_EQ(r.query["stderr"], "1");
  EXPECT_EQ(r.query["follow"], "1");
  EXPECT_EQ(r.query["since"], "1714564800.123000000");
}

TEST_F(DockerClientTest, LogsOfATtyContainerAreRaw) {
  engine_.Route("GET", "/v1.41/containers/c1/logs", [](const RecordedRequest&, FakeResponder& out) {
    out.Respond(200, "plain text\r\n", "application/vnd.docker.raw-stream");
  });
  DockerClient client(Options());
  std::string text;
  LogsOptions options;
  options.tty = true;
  ASSERT_TRUE(client
                  .Logs("c1", options,
                        [&](LogStream stream, std::string_view data) {
                          EXPECT_EQ(stream, LogStream::kStdout);
                          text.append(data);
                        })
                  .ok());
  EXPECT_EQ(text, "plain text\r\n");
  // The same stream read as multiplexed is a clear error, not garbage.
  absl::Status s = client.Logs("c1", LogsOptions(), [](LogStream, std::string_view) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
}

TEST_F(DockerClientTest, LogsErrorsAndTruncation) {
  engine_.Route("GET", "/v1.41/containers/gone/logs",
                [](const RecordedRequest&, FakeResponder& out) {
                  out.RespondJson(404, {{"message", "No such container: gone"}});
                });
  engine_.Route("GET", "/v1.41/containers/cut/logs",
                [](const RecordedRequest&, FakeResponder& out) {
                  out.StartChunked(200);
                  out.Chunk(Frame(1, "complete\n") + Frame(1, "incomplete").substr(0, 12));
                  out.EndChunked();
                });
  DockerClient client(Options());
  absl::Status s = client.Logs("gone", LogsOptions(), [](LogStream, std::string_view) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("No such container: gone"), absl::string_view::npos) << s;
  std::string text;
  s = client.Logs("cut", LogsOptions(),
                  [&](LogStream, std::string_view data) { text.append(data); });
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(text, "complete\ninco");
}

TEST_F(DockerClientTest, FollowedLogsStopOnRequest) {
  engine_.Route("GET", "/v1.41/containers/c1/logs", [](const RecordedRequest&, FakeResponder& out) {
    out.StartChunked(200);
    out.Chunk(Frame(1, "started\n"));
    out.Hang(milliseconds(10000));
  });
  DockerClient client(Options());
  std::stop_source stop;
  LogsOptions options;
  options.follow = true;
  std::string text;
  const auto start = steady_clock::now();
  absl::Status s = client.Logs(
      "c1", options,
      [&](LogStream, std::string_view data) {
        text.append(data);
        // Stopping from inside the callback works too.
        stop.request_stop();
      },
      stop.get_token());
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_EQ(text, "started\n");
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
}

TEST_F(DockerClientTest, UnreachableEngine) {
  DockerClientOptions options = Options();
  options.endpoint = Endpoint::Unix(engine_.socket_path() + ".gone");
  DockerClient client(options);
  absl::Status s = client.Ping();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(".gone"), absl::string_view::npos) << s;
  EXPECT_EQ(client.StartContainer("c1").code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cloudai::worker::docker
