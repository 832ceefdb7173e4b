#include "store/records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cloudai::store
