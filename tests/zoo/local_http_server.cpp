#include "tests/zoo/local_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace zfvis::test {

namespace {

// Sends everything, ignoring a client that went away (MSG_NOSIGNAL: no SIGPIPE).
bool sendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool stripPrefix(std::string& path, const std::string& prefix) {
  if (path.rfind(prefix, 0) != 0) return false;
  path = path.substr(prefix.size() - 1);  // keep the leading '/'
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

LocalHttpServer::LocalHttpServer() {
  m_listenFd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listenFd < 0) throw std::runtime_error("test server: socket() failed");
  int one = 1;
  ::setsockopt(m_listenFd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(m_listenFd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(m_listenFd, 16) != 0)
    throw std::runtime_error("test server: cannot listen on 127.0.0.1");
  socklen_t len = sizeof addr;
  ::getsockname(m_listenFd, reinterpret_cast<sockaddr*>(&addr), &len);
  m_port = ntohs(addr.sin_port);
  m_thread = std::thread([this] { serve(); });
}

LocalHttpServer::~LocalHttpServer() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
  ::close(m_listenFd);
}

void LocalHttpServer::addFile(const std::string& path, std::string bytes) {
  std::lock_guard lock(m_mutex);
  m_files[path] = std::move(bytes);
}

std::string LocalHttpServer::baseUrl() const {
  return "http://127.0.0.1:" + std::to_string(m_port) + "/";
}

std::vector<LocalHttpServer::Request> LocalHttpServer::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

void LocalHttpServer::clearRequests() {
  std::lock_guard lock(m_mutex);
  m_requests.clear();
}

void LocalHttpServer::serve() {
  while (!m_stop) {
    pollfd p{m_listenFd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int client = ::accept4(m_listenFd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    handle(client);
    ::close(client);
  }
}

void LocalHttpServer::handle(int client) {
  // Read the request head (the tests never send a body).
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
  Request request;
  {
    auto sp1 = head.find(' ');
    auto sp2 = head.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) return;
    request.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
      size_t end = head.find("\r\n", pos + 2);
      if (end == std::string::npos) break;
      std::string line = head.substr(pos + 2, end - pos - 2);
      if (auto colon = line.find(':');
          colon != std::string::npos && lower(line.substr(0, colon)) == "range") {
        request.range = line.substr(colon + 1);
        request.range.erase(0, request.range.find_first_not_of(' '));
      }
      pos = end;
    }
  }

  // Recorded before anything is sent, so a test that saw the response also sees the request.
  auto record = [this, &request](int status) {
    request.status = status;
    std::lock_guard lock(m_mutex);
    m_requests.push_back(request);
  };
  std::string path = request.target;
  bool ignoreRange = false, truncate = false, slow = false, trickle = false;
  if (stripPrefix(path, "/redirect/")) {
    std::string response = "HTTP/1.1 302 Found\r\nLocation: " + path +
                           "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    record(302);
    sendAll(client, response.data(), response.size());
  } else {
    if (stripPrefix(path, "/norange/")) ignoreRange = true;
    if (stripPrefix(path, "/truncated/")) truncate = true;
    if (stripPrefix(path, "/slow/")) slow = true;
    if (stripPrefix(path, "/trickle/")) trickle = true;
    std::string body;
    bool found = false;
    {
      std::lock_guard lock(m_mutex);
      if (auto it = m_files.find(path); it != m_files.end()) {
        body = it->second;
        found = true;
      }
    }
    std::string response;
    size_t begin = 0;
    const size_t total = body.size();
    if (!found) {
      record(404);
      body = "not found\n";
      response = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    } else {
      unsigned long long start = 0;
      const bool ranged = !ignoreRange && !request.range.empty() &&
                          std::sscanf(request.range.c_str(), "bytes=%llu-", &start) == 1;
      if (ranged && start >= total) {
        record(416);
        body.clear();
        response = "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" +
                   std::to_string(total) + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      } else if (ranged) {
        record(206);
        begin = static_cast<size_t>(start);
        response = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + std::to_string(begin) +
                   "-" + std::to_string(total - 1) + "/" + std::to_string(total) +
                   "\r\nContent-Length: " + std::to_string(total - begin) +
                   "\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
      } else {
        record(200);
        response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(total) +
                   "\r\nContent-Type: application/octet-stream\r\nAccept-Ranges: " +
                   (ignoreRange ? "none" : "bytes") + "\r\nConnection: close\r\n\r\n";
      }
    }
    if (sendAll(client, response.data(), response.size())) {
      size_t end = body.size();
      if (truncate) end = begin + (end - begin) / 2;
      const size_t piece = trickle ? 1 : slow ? 4096 : 65536;
      for (size_t at = begin; at < end && !m_stop; at += piece) {
        if (!sendAll(client, body.data() + at, std::min(piece, end - at))) break;
        if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (trickle) std::this_thread::sleep_for(std::chrono::milliseconds(400));
      }
    }
  }
  ::shutdown(client, SHUT_WR);
}

}  // namespace zfvis::test
