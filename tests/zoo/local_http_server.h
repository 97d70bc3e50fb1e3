// A tiny HTTP/1.1 file server on 127.0.0.1 (ephemeral port) for the download tests. One
// connection at a time, "Connection: close". Path prefixes select misbehaviours:
//   /norange/X     serves X but ignores Range headers (always 200 with the whole file)
//   /truncated/X   announces the full Content-Length but closes after half of the body
//   /slow/X        sends the body in 4 KiB pieces with a 2 ms pause between them
//   /trickle/X     sends the body one byte every 400 ms (2.5 bytes/s), as a hostile server might
//   /redirect/X    answers 302 with Location: /X
// Plain paths honour "Range: bytes=N-" with 206 (416 past the end); unknown paths answer 404.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zfvis::test {

class LocalHttpServer {
 public:
  /// One request as the server saw it.
  struct Request {
    std::string target;  // "/truncated/good.bin"
    std::string range;   // value of the Range header, empty when absent
    int status = 0;      // status code answered
  };

  /// Binds 127.0.0.1 on an ephemeral port and starts serving on a background thread.
  LocalHttpServer();
  /// Stops the thread and closes the socket.
  ~LocalHttpServer();
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  /// Serves `bytes` at `path` ("/good.bin").
  void addFile(const std::string& path, std::string bytes);
  /// "http://127.0.0.1:PORT/".
  std::string baseUrl() const;
  /// Every request served so far, in order.
  std::vector<Request> requests() const;
  /// Forgets the recorded requests.
  void clearRequests();

 private:
  void serve();
  void handle(int client);

  int m_listenFd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_files;
  std::vector<Request> m_requests;
  std::thread m_thread;
};

}  // namespace zfvis::test
