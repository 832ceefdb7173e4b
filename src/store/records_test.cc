#include "store/records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/strings.h"
#include "store/text_codec.h"

namespace cloudai::store {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(TaskState, NamesRoundTrip) {
  for (TaskState s :
       {TaskState::kPending, TaskState::kScheduled, TaskState::kRunning, TaskState::kCompleted,
        TaskState::kFailed, TaskState::kCancelled, TaskState::kLost}) {
    EXPECT_EQ(ParseTaskState(TaskStateName(s)).value(), s);
  }
  EXPECT_EQ(TaskStateName(TaskState::kScheduled), "scheduled");
  EXPECT_THAT(Message(ParseTaskState("done").status()),
              HasSubstr("unknown task state \"done\"; expected one of pending"));
  EXPECT_FALSE(IsFinal(TaskState::kRunning));
  EXPECT_TRUE(IsFinal(TaskState::kLost));
}

TEST(ValidateRecord, NamesTheField) {
  TaskRecord t;
  t.task_id = "t-1";
  EXPECT_TRUE(ValidateRecord(t).ok());
  t.request.cpu_millis = -1;
  EXPECT_THAT(Message(ValidateRecord(t)), HasSubstr("task.request.cpu: -1 is negative"));
  t.request.cpu_millis = 0;
  t.retries = -2;
  EXPECT_THAT(Message(ValidateRecord(t)), HasSubstr("task.retries: -2 is negative"));
  t.retries = 0;
  t.task_id = "";
  EXPECT_THAT(Message(ValidateRecord(t)), HasSubstr("task.task_id: must not be empty"));
  t.task_id = "bad\nid";
  EXPECT_THAT(Message(ValidateRecord(t)), HasSubstr("control character"));
  t.task_id = std::string(kMaxIdLength + 1, 'x');
  EXPECT_THAT(Message(ValidateRecord(t)), HasSubstr("longer than the limit"));
  t.task_id = "t-1";
  t.env["A=B"] = "1";
  EXPECT_THAT(Message(ValidateRecord(t)), HasSubstr("task.env: variable name \"A=B\""));

  WorkerRecord w;
  w.worker_id = "w";
  w.total.gpu_millis = -5;
  EXPECT_THAT(Message(ValidateRecord(w)), HasSubstr("worker.total.gpu: -5 is negative"));

  ResultRecord r;
  r.task_id = "t";
  r.status = TaskState::kRunning;
  EXPECT_THAT(Message(ValidateRecord(r)), HasSubstr("result.status: \"running\" is not a final"));

  UserRecord u;
  u.user_id = "u";
  u.role = "root";
  EXPECT_THAT(Message(ValidateRecord(u)), HasSubstr("user.role: \"root\" is not admin or user"));

  AssignmentRecord a{"a", "t", "", 0};
  EXPECT_THAT(Message(ValidateRecord(a)), HasSubstr("assignment.worker_id: must not be empty"));

  TaskEvent e;
  e.task_id = "t";
  e.at = -1;
  EXPECT_THAT(Message(ValidateRecord(e)), HasSubstr("event.at: -1 is negative"));
}

TEST(TextCodec, ExtrasRoundTrip) {
  Resources r;
  r.SetExtra("fpga", 2);
  r.SetExtra("license.matlab", 1);
  EXPECT_EQ(EncodeExtras(r), "fpga=2,license.matlab=1");
  Resources back;
  ASSERT_TRUE(DecodeExtras(EncodeExtras(r), "x", &back).ok());
  EXPECT_EQ(back.extras, r.extras);
  ASSERT_TRUE(DecodeExtras("", "x", &back).ok());
  EXPECT_TRUE(back.extras.empty());
}

TEST(TextCodec, ExtrasRejectsMalformedText) {
  Resources r;
  EXPECT_THAT(Message(DecodeExtras("fpga", "req_extras", &r)),
              HasSubstr("req_extras: \"fpga\" is not name=count"));
  EXPECT_THAT(Message(DecodeExtras("fpga=x", "req_extras", &r)), HasSubstr("whole count"));
  EXPECT_THAT(Message(DecodeExtras("fpga=-1", "req_extras", &r)), HasSubstr("-1 is negative"));
  EXPECT_THAT(Message(DecodeExtras("FPGA=1", "req_extras", &r)), HasSubstr("lower-case"));
  EXPECT_THAT(Message(DecodeExtras("b=1,a=1", "req_extras", &r)), HasSubstr("sorted"));
  EXPECT_FALSE(DecodeExtras("fpga=99999999999999999999", "x", &r).ok());
}

TEST(TextCodec, StringMapSurvivesAnyBytes) {
  std::map<std::string, std::string> env = {
      {"PATH", "/bin:/usr/bin"},
      {"TRICKY", std::string("a=b&c%d e\n\t\x01\xff", 14)},
      {"EMPTY", ""},
      {"caf\xc3\xa9", "\xe2\x82\xac"},
  };
  const std::string text = EncodeStringMap(env);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(DecodeStringMap(text, "env").value(), env);
  EXPECT_EQ(EncodeStringMap({}), "");
  EXPECT_TRUE(DecodeStringMap("", "env").value().empty());
  EXPECT_EQ(EncodeStringMap({{"A", "x y"}}), "A=x%20y");
}

TEST(TextCodec, StringMapRejectsMalformedText) {
  EXPECT_THAT(Message(DecodeStringMap("A", "env").status()),
              HasSubstr("env: \"A\" is not key=value"));
  EXPECT_THAT(Message(DecodeStringMap("A=%zz", "env").status()), HasSubstr("malformed escape"));
  EXPECT_THAT(Message(DecodeStringMap("A=%4", "env").status()), HasSubstr("malformed escape"));
  EXPECT_THAT(Message(DecodeStringMap("A=1&A=2", "env").status()), HasSubstr("appears twice"));
}

AllocationRecord ValidAllocation() {
  AllocationRecord a;
  a.allocation_id = "alloc-0123456789ab";
  a.job_id = "job-1";
  a.workers = 2;
  a.per_worker = Resources::Of(1000, 2048);
  return a;
}

TEST(AllocationState, NamesRoundTrip) {
  for (AllocationState s :
       {AllocationState::kPending, AllocationState::kActive, AllocationState::kReleasing,
        AllocationState::kReleased, AllocationState::kFailed, AllocationState::kExpired}) {
    EXPECT_EQ(ParseAllocationState(AllocationStateName(s)).value(), s);
  }
  EXPECT_EQ(AllocationStateName(AllocationState::kReleasing), "releasing");
  EXPECT_EQ(AllocationStateName(static_cast<AllocationState>(42)), "invalid");
  const absl::Status bad = ParseAllocationState("done").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(bad), HasSubstr("unknown allocation state \"done\"; expected one of pending, "
                                      "active, releasing, released, failed, expired"));
  EXPECT_FALSE(IsFinal(AllocationState::kPending));
  EXPECT_FALSE(IsFinal(AllocationState::kActive));
  EXPECT_FALSE(IsFinal(AllocationState::kReleasing));
  EXPECT_TRUE(IsFinal(AllocationState::kReleased));
  EXPECT_TRUE(IsFinal(AllocationState::kFailed));
  EXPECT_TRUE(IsFinal(AllocationState::kExpired));
}

TEST(AllocationPriority, NamesRoundTrip) {
  for (AllocationPriority p : {AllocationPriority::kLow, AllocationPriority::kNormal,
                               AllocationPriority::kHigh, AllocationPriority::kCritical}) {
    EXPECT_EQ(ParseAllocationPriority(AllocationPriorityName(p)).value(), p);
  }
  EXPECT_EQ(AllocationPriorityName(AllocationPriority::kCritical), "critical");
  EXPECT_THAT(Message(ParseAllocationPriority("urgent").status()),
              HasSubstr("unknown allocation priority \"urgent\"; expected one of low, normal, "
                        "high, critical"));
  EXPECT_FALSE(ParseAllocationPriority("").ok());
}

TEST(ValidateRecord, AllocationNamesTheField) {
  EXPECT_TRUE(ValidateRecord(ValidAllocation()).ok());
  struct Case {
    std::function<void(AllocationRecord&)> change;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](auto& a) { a.allocation_id = ""; }, "allocation.allocation_id: must not be empty"},
      {[](auto& a) { a.job_id = "bad\tjob"; }, "allocation.job_id: contains a control character"},
      {[](auto& a) { a.state = static_cast<AllocationState>(9); },
       "allocation.state: not an allocation state"},
      {[](auto& a) { a.priority = static_cast<AllocationPriority>(-1); },
       "allocation.priority: not an allocation priority"},
      {[](auto& a) { a.workers = 0; }, "allocation.workers: 0 is below 1"},
      {[](auto& a) { a.workers = -3; }, "allocation.workers: -3 is below 1"},
      {[](auto& a) { a.workers = 1001; }, "allocation.workers: 1001 is above the limit of 1000"},
      {[](auto& a) { a.per_worker.memory_mib = -1; },
       "allocation.per_worker.memory: -1 is negative"},
      {[](auto& a) {
         a.slots = {{"", Resources::Of(1, 1)}};
       },
       "allocation.slots[0].worker_id: must not be empty"},
      {[](auto& a) {
         a.slots = {{"w-1", Resources::Of(1, 1)}, {"w-2", Resources::Of(-1, 1)}};
       },
       "allocation.slots[1].resources.cpu: -1 is negative"},
      {[](auto& a) {
         a.slots.assign(3, {"w-1", Resources::Of(1, 1)});
       },
       "allocation.slots: 3 slots is more than allocation.workers (2)"},
      {[](auto& a) { a.services.assign(17, "echo"); },
       "allocation.services: 17 names is above the limit of 16"},
      {[](auto& a) {
         a.services = {"echo", ""};
       },
       "allocation.services[1]: must not be empty"},
      {[](auto& a) {
         for (int i = 0; i < 65; ++i) a.metadata["k" + std::to_string(i)] = "v";
       },
       "allocation.metadata: 65 keys is above the limit of 64"},
      {[](auto& a) { a.metadata[std::string(129, 'k')] = "v"; },
       "is 129 bytes, longer than the limit of 128"},
      {[](auto& a) { a.metadata["big"] = std::string(4097, 'v'); },
       "allocation.metadata.big: 4097 bytes is longer than the limit of 4096"},
      {[](auto& a) { a.metadata[""] = "v"; }, "allocation.metadata: a key is empty"},
      {[](auto& a) { a.ttl_ms = -1; }, "allocation.ttl_ms: -1 is negative"},
      {[](auto& a) { a.created_at = -1; }, "allocation.created_at: -1 is negative"},
      {[](auto& a) { a.activated_at = -2; }, "allocation.activated_at: -2 is negative"},
      {[](auto& a) { a.expires_at = -3; }, "allocation.expires_at: -3 is negative"},
      {[](auto& a) { a.ended_at = -4; }, "allocation.ended_at: -4 is negative"},
      {[](auto& a) { a.reason = std::string(kMaxTextLength + 1, 'r'); },
       "allocation.reason: 1048577 bytes is longer than the limit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expected);
    AllocationRecord a = ValidAllocation();
    c.change(a);
    const absl::Status s = ValidateRecord(a);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(s), HasSubstr(c.expected));
  }
  // At the limits.
  AllocationRecord a = ValidAllocation();
  a.workers = 1000;
  a.slots.assign(1000, {"w-1", Resources::Of(1000, 2048)});
  a.services.assign(16, "echo");
  for (int i = 0; i < 64; ++i) a.metadata[std::string(120, 'k') + std::to_string(i)] = "";
  a.metadata["v"] = std::string(4096, 'v');
  a.metadata.erase(a.metadata.begin());
  EXPECT_TRUE(ValidateRecord(a).ok()) << ValidateRecord(a);
}

TEST(ValidateRecord, AllocationEventAndServiceInstance) {
  AllocationEvent e{0, "alloc-1", std::nullopt, AllocationState::kPending, 5, "requested"};
  EXPECT_TRUE(ValidateRecord(e).ok());
  e.at = -1;
  EXPECT_THAT(Message(ValidateRecord(e)), HasSubstr("allocation_event.at: -1 is negative"));
  e.at = 0;
  e.allocation_id = "";
  EXPECT_THAT(Message(ValidateRecord(e)),
              HasSubstr("allocation_event.allocation_id: must not be empty"));
  e.allocation_id = "alloc-1";
  e.from_state = static_cast<AllocationState>(77);
  EXPECT_THAT(Message(ValidateRecord(e)),
              HasSubstr("allocation_event.from_state: not an allocation state"));
  e.from_state = AllocationState::kPending;
  e.seq = -5;
  EXPECT_THAT(Message(ValidateRecord(e)), HasSubstr("allocation_event.seq: -5 is negative"));

  ServiceInstanceRecord i{"echo", "svc-echo-1", 9000, 1'700'000'000'000, 0};
  EXPECT_TRUE(ValidateRecord(i).ok());
  for (int32_t port : {0, -1, 65536}) {
    i.port = port;
    EXPECT_THAT(Message(ValidateRecord(i)),
                HasSubstr("service_instance.port: " + std::to_string(port) +
                          " is not a port (1 to 65535)"));
  }
  i.port = 65535;
  EXPECT_TRUE(ValidateRecord(i).ok());
  i.task_id = "";
  EXPECT_THAT(Message(ValidateRecord(i)), HasSubstr("service_instance.task_id: must not be empty"));
  i.task_id = "t";
  i.service = "";
  EXPECT_THAT(Message(ValidateRecord(i)), HasSubstr("service_instance.service: must not be empty"));
  i.service = "echo";
  i.idle_since = -1;
  EXPECT_THAT(Message(ValidateRecord(i)), HasSubstr("service_instance.idle_since: -1 is negative"));
}

TEST(ValidateRecord, TaskAllocationIdIsBounded) {
  TaskRecord t;
  t.task_id = "t-1";
  t.allocation_id = "alloc-1";
  EXPECT_TRUE(ValidateRecord(t).ok());
  t.allocation_id = std::string(kMaxIdLength + 1, 'a');
  EXPECT_THAT(Message(ValidateRecord(t)), HasSubstr("task.allocation_id: 257 bytes is longer"));
}

TEST(TextCodec, StringListRoundTrip) {
  const std::vector<std::string> list = {"echo", "a,b", "100%", "sp ace", "caf\xc3\xa9"};
  const std::string text = EncodeStringList(list);
  EXPECT_EQ(text, "echo,a%2Cb,100%25,sp%20ace,caf%C3%A9");
  EXPECT_EQ(DecodeStringList(text, "services").value(), list);
  EXPECT_EQ(EncodeStringList({}), "");
  EXPECT_TRUE(DecodeStringList("", "services").value().empty());
  EXPECT_EQ(DecodeStringList("one", "services").value(), std::vector<std::string>{"one"});
}

TEST(TextCodec, StringListRejectsMalformedText) {
  EXPECT_THAT(Message(DecodeStringList("a,,b", "services").status()),
              HasSubstr("services: item 2 of \"a,,b\" is empty"));
  EXPECT_THAT(Message(DecodeStringList("a,", "services").status()), HasSubstr("is empty"));
  EXPECT_THAT(Message(DecodeStringList(",", "services").status()), HasSubstr("is empty"));
  EXPECT_THAT(Message(DecodeStringList("a%2", "services").status()),
              HasSubstr("services: malformed escape"));
}

TEST(TextCodec, SlotsRoundTrip) {
  Resources r = Resources::Of(1500, 512, 0, 250);
  r.SetExtra("fpga", 1);
  const std::vector<AllocationSlot> slots = {
      {"w-1", r}, {"w-1", Resources::Of(1500, 512)}, {"odd|id;with %", Resources()}};
  const std::string text = EncodeSlots(slots);
  EXPECT_EQ(text, "w-1|1500|512|0|250|fpga=1;w-1|1500|512|0|0|;odd%7Cid%3Bwith%20%25|0|0|0|0|");
  EXPECT_EQ(DecodeSlots(text, "slots").value(), slots);
  EXPECT_EQ(EncodeSlots({}), "");
  EXPECT_TRUE(DecodeSlots("", "slots").value().empty());
  const std::vector<AllocationSlot> one = {
      {"w", Resources::Of(kMaxCpuMillis, kMaxMemoryMiB, kMaxStorageMiB, kMaxGpuMillis)}};
  EXPECT_EQ(DecodeSlots(EncodeSlots(one), "slots").value(), one);
}

TEST(TextCodec, SlotsRejectMalformedText) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"w-1|1|2|3|4", "slots[0]: \"w-1|1|2|3|4\" is not worker_id|cpu|memory|storage|gpu|extras"},
      {"w-1|1|2|3|4||", "is not worker_id|cpu|memory|storage|gpu|extras"},
      {"w-1|1|2|3|4|;", "slots[1]: \"\" is not worker_id"},
      {";w-1|1|2|3|4|", "slots[0]: \"\" is not worker_id"},
      {"w-1|x|2|3|4|", "slots[0].cpu: \"x\" is not a whole number"},
      {"w-1|1||3|4|", "slots[0].memory: \"\" is not a whole number"},
      {"w-1|1|2|3.5|4|", "slots[0].storage: \"3.5\" is not a whole number"},
      {"w-1|1|2|3|99999999999999999999|", "slots[0].gpu: \"99999999999999999999\" is not a whole"},
      {"w-1|1|2|3|+4|", "slots[0].gpu: \"+4\" is not a whole number"},
      {"w-1|-1|2|3|4|", "slots[0].resources.cpu: -1 is negative"},
      {"w-1|1|2|3|4|fpga=x", "slots[0].resources: \"fpga=x\" does not end in a whole count"},
      {"w-1|1|2|3|4|FPGA=1", "lower-case"},
      {"w-%zz|1|2|3|4|", "slots[0]: malformed escape"},
      {"w-1|1|2|3|4|;w-2|1|2|3|4|fpga", "slots[1].resources: \"fpga\" is not name=count"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const auto slots = DecodeSlots(c.text, "slots");
    ASSERT_FALSE(slots.ok());
    EXPECT_EQ(slots.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(slots.status()), HasSubstr(c.expected));
  }
  std::string many;
  for (int i = 0; i <= kMaxAllocationWorkers; ++i) StrAppend(&many, i ? ";" : "", "w|1|1|0|0|");
  EXPECT_THAT(Message(DecodeSlots(many, "slots").status()),
              HasSubstr("slots: 1001 slots is above the limit of 1000"));
  // Arbitrary bytes never crash the decoder.
  std::string junk;
  for (int i = 0; i < 2000; ++i) {
    junk.push_back("w|;%=,1-9\xff"[static_cast<size_t>(i * 7919 % 11)]);
    (void)DecodeSlots(junk, "slots");
    (void)DecodeStringList(junk, "services");
  }
}

}  // namespace
}  // namespace cloudai::store
