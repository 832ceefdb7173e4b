#include "worker/docker/log_demuxer.h"

#include <gtest/gtest.h>

#include <string>

namespace cloudai::worker::docker {
namespace {

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

struct Collected {
  std::string out, err, in;
  std::string order;  // one letter per callback: o, e or i

  LogCallback Callback() {
    return [this](LogStream stream, std::string_view data) {
      EXPECT_FALSE(data.empty());
      switch (stream) {
        case LogStream::kStdout:
          out.append(data);
          order += 'o';
          break;
        case LogStream::kStderr:
          err.append(data);
          order += 'e';
          break;
        case LogStream::kStdin:
          in.append(data);
          order += 'i';
          break;
      }
    };
  }
};

TEST(LogDemuxerTest, SeparatesInterleavedStreams) {
  const std::string stream = Frame(1, "hello\n") + Frame(2, "oops\n") + Frame(1, "world\n") +
                             Frame(0, "") + Frame(2, "bad\n");
  Collected c;
  LogDemuxer demuxer(c.Callback());
  ASSERT_TRUE(demuxer.Feed(stream).ok());
  ASSERT_TRUE(demuxer.Finish().ok());
  EXPECT_EQ(c.out, "hello\nworld\n");
  EXPECT_EQ(c.err, "oops\nbad\n");
  EXPECT_EQ(c.order, "oeoe");
  EXPECT_EQ(demuxer.payload_bytes(), 21);
}

// Every way of cutting the stream in two, and byte-by-byte, gives the same result.
TEST(LogDemuxerTest, FramesSplitAtEveryOffset) {
  const std::string big(70000, 'x');  // longer than one read
  const std::string stream =
      Frame(1, "a") + Frame(2, "bc") + Frame(1, big) + Frame(2, "") + Frame(1, "tail\n");
  for (size_t cut = 0; cut <= stream.size();
       cut += (cut < 40 || cut > stream.size() - 40) ? 1 : 997) {
    Collected c;
    LogDemuxer demuxer(c.Callback());
    ASSERT_TRUE(demuxer.Feed(std::string_view(stream).substr(0, cut)).ok()) << cut;
    ASSERT_TRUE(demuxer.Feed(std::string_view(stream).substr(cut)).ok()) << cut;
    ASSERT_TRUE(demuxer.Finish().ok()) << cut;
    EXPECT_EQ(c.out, "a" + big + "tail\n") << cut;
    EXPECT_EQ(c.err, "bc") << cut;
  }
  Collected c;
  LogDemuxer demuxer(c.Callback());
  for (char byte : stream) ASSERT_TRUE(demuxer.Feed(std::string_view(&byte, 1)).ok());
  ASSERT_TRUE(demuxer.Finish().ok());
  EXPECT_EQ(c.out, "a" + big + "tail\n");
  EXPECT_EQ(c.err, "bc");
}

TEST(LogDemuxerTest, DeliversPartOfAFrameBeforeItEnds) {
  const std::string frame = Frame(1, "0123456789");
  Collected c;
  LogDemuxer demuxer(c.Callback());
  ASSERT_TRUE(demuxer.Feed(std::string_view(frame).substr(0, 12)).ok());
  EXPECT_EQ(c.out, "0123");
  EXPECT_EQ(demuxer.Finish().code(), absl::StatusCode::kDataLoss);
}

TEST(LogDemuxerTest, TruncatedHeaderIsDataLoss) {
  Collected c;
  LogDemuxer demuxer(c.Callback());
  ASSERT_TRUE(demuxer.Feed(Frame(1, "ok") + std::string("\x01\0\0", 3)).ok());
  absl::Status s = demuxer.Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("3 of 8 header bytes"), absl::string_view::npos) << s;
  EXPECT_EQ(c.out, "ok");
}

TEST(LogDemuxerTest, RawTtyOutputIsRejectedClearly) {
  Collected c;
  LogDemuxer demuxer(c.Callback());
  absl::Status s = demuxer.Feed("hello from a tty\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("TTY"), absl::string_view::npos) << s;
  EXPECT_EQ(demuxer.Feed(Frame(1, "x")).code(), absl::StatusCode::kDataLoss);  // final
  EXPECT_TRUE(c.out.empty());
}

TEST(LogDemuxerTest, EngineErrorFrameBecomesAnError) {
  Collected c;
  LogDemuxer demuxer(c.Callback());
  const std::string stream = Frame(1, "before\n") + Frame(3, "container gone\n");
  absl::Status s = demuxer.Feed(std::string_view(stream).substr(0, stream.size() - 3));
  ASSERT_TRUE(s.ok()) << s;
  s = demuxer.Feed(std::string_view(stream).substr(stream.size() - 3));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("container gone"), absl::string_view::npos) << s;
  EXPECT_EQ(c.out, "before\n");
}

}  // namespace
}  // namespace cloudai::worker::docker
