// HttpRangeReader (storage/http_range_reader.h) on libcurl's multi interface. One code path
// serves ReadAt (a batch of one) and ReadMany: transfers start while fewer than
// max_concurrency run, each finished transfer is judged by Judge(), transient failures wait
// out their backoff and go round again, and the first permanent failure cancels the rest.
// The Impl owns the curl handles; sessions (a multi handle plus its idle easy handles) are
// borrowed per call from a pool under `mutex`, so one handle never serves two threads.
#include "storage/http_range_reader.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

namespace locus::storage {
namespace {

constexpr uint64_t kUnknownSize = std::numeric_limits<uint64_t>::max();
constexpr size_t kErrorBodyKeep = 200;  // bytes of an error body quoted in messages
constexpr size_t kMaxIdleSessions = 16;
constexpr std::chrono::milliseconds kMaxBackoff{2000};

// curl_global_init is not thread-safe and must run once per process before any handle.
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char a = s[i] >= 'A' && s[i] <= 'Z' ? char(s[i] - 'A' + 'a') : s[i];
    if (a != prefix[i]) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

// A parsed `Content-Range` value: "bytes a-b/N", "bytes a-b/*" or "bytes */N".
struct ContentRange {
  bool has_range = false;
  uint64_t first = 0, last = 0;
  std::optional<uint64_t> total;
};

std::optional<ContentRange> ParseContentRange(std::string_view v) {
  if (!StartsWithNoCase(v, "bytes ")) return std::nullopt;
  v = Trim(v.substr(6));
  const size_t slash = v.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view range = v.substr(0, slash), total = v.substr(slash + 1);
  ContentRange cr;
  if (total != "*") {
    uint64_t n;
    if (!ParseU64(total, &n)) return std::nullopt;
    cr.total = n;
  }
  if (range == "*") return cr.total ? std::optional(cr) : std::nullopt;
  const size_t dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  if (!ParseU64(range.substr(0, dash), &cr.first) || !ParseU64(range.substr(dash + 1), &cr.last) ||
      cr.last < cr.first || (cr.total && cr.last >= *cr.total)) {
    return std::nullopt;
  }
  cr.has_range = true;
  return cr;
}

// One request's state while curl runs it; the callbacks get a pointer to it.
struct Transfer {
  uint64_t offset = 0;
  std::span<uint8_t> out;
  CURL* easy = nullptr;
  int attempts = 0;
  std::chrono::steady_clock::time_point retry_at;
  // Filled by the callbacks for the current attempt; Reset() clears them.
  long code = 0;  // status of the last response head seen (after redirects)
  std::string content_range;
  size_t received = 0;         // body bytes written to `out`
  bool overflow = false;       // the server sent more than out.size() body bytes
  bool ignored_range = false;  // a 200 for a read that does not start at 0
  std::string error_body;      // the start of a non-2xx body, for the message
  char errbuf[CURL_ERROR_SIZE] = {};

  void Reset() {
    code = 0;
    content_range.clear();
    received = 0;
    overflow = ignored_range = false;
    error_body.clear();
    errbuf[0] = '\0';
  }
  std::string Range() const {
    return std::to_string(offset) + "-" + std::to_string(offset + out.size() - 1);
  }
};

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  const std::string_view line(data, n);
  if (StartsWithNoCase(line, "http/")) {  // a new response head (a redirect, a 100 Continue)
    t->content_range.clear();
    t->error_body.clear();
    t->code = 0;
    const size_t sp = line.find(' ');
    if (sp != std::string_view::npos) {
      const std::string_view rest = line.substr(sp + 1);
      std::from_chars(rest.data(), rest.data() + std::min<size_t>(rest.size(), 3), t->code);
    }
  } else if (StartsWithNoCase(line, "content-range:")) {
    t->content_range = std::string(Trim(line.substr(14)));
  }
  return n;
}

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  if (t->code == 206 || t->code == 200) {
    if (t->code == 200 && t->offset != 0) {  // the whole object from byte 0: useless here
      t->ignored_range = true;
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    if (n > t->out.size() - t->received) {
      t->overflow = true;
      return 0;
    }
    if (n > 0) std::memcpy(t->out.data() + t->received, data, n);
    t->received += n;
    return n;
  }
  // Anything else is an error page: keep its start for the message, drain the rest so the
  // connection can be reused.
  if (t->error_body.size() < kErrorBodyKeep) {
    t->error_body.append(data, std::min(n, kErrorBodyKeep - t->error_body.size()));
  }
  return n;
}

bool TransientCurlError(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool TransientHttpCode(long code) { return code >= 500 || code == 408 || code == 429; }

// What became of one attempt.
struct Verdict {
  Status status;
  bool retry = false;  // transient: worth another attempt
};

}  // namespace

struct HttpRangeReader::Impl {
  // A multi handle (which owns the connection cache) and the easy handles idle in it.
  struct Session {
    CURLM* multi = nullptr;
    std::vector<CURL*> idle;
    ~Session() {
      for (CURL* e : idle) curl_easy_cleanup(e);
      if (multi) curl_multi_cleanup(multi);
    }
  };

  std::string url;
  // The URL without its query and fragment, for messages: a signed URL's credentials
  // (e.g. X-Amz-Signature=...) never reach logs through an error.
  std::string display;
  HttpOptions options;
  curl_slist* headers = nullptr;  // read-only once built: shared by every easy handle
  std::atomic<uint64_t> size{kUnknownSize};
  std::mutex mutex;  // guards `sessions`
  std::vector<std::unique_ptr<Session>> sessions;

  ~Impl() {
    sessions.clear();
    curl_slist_free_all(headers);
  }

  Result<std::unique_ptr<Session>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!sessions.empty()) {
        std::unique_ptr<Session> s = std::move(sessions.back());
        sessions.pop_back();
        return s;
      }
    }
    auto s = std::make_unique<Session>();
    s->multi = curl_multi_init();
    if (!s->multi) return ResourceExhaustedError(display + ": curl_multi_init failed");
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, long(options.max_concurrency));
    return s;
  }

  void Release(std::unique_ptr<Session> s) {
    std::lock_guard<std::mutex> lock(mutex);
    if (sessions.size() < kMaxIdleSessions) sessions.push_back(std::move(s));
  }

  Result<CURL*> TakeEasy(Session& s) {
    if (!s.idle.empty()) {
      CURL* e = s.idle.back();
      s.idle.pop_back();
      return e;
    }
    CURL* e = curl_easy_init();
    if (!e) return ResourceExhaustedError(display + ": curl_easy_init failed");
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: we run on callers' threads
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(options.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(options.request_timeout.count()));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "locus/0.1 (libcurl)");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
    if (headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    return e;
  }

  void Start(Transfer& t, CURL* e) {
    t.easy = e;
    t.Reset();
    ++t.attempts;
    const std::string range = t.Range();
    curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());  // curl copies the string
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
  }

  // Returns an easy handle to the session's idle list, unhooked from its Transfer (which
  // dies when the call returns) so no pointer to it outlives the call.
  static void Park(Session& s, CURL* e) {
    curl_easy_setopt(e, CURLOPT_HEADERDATA, nullptr);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, nullptr);
    curl_easy_setopt(e, CURLOPT_PRIVATE, nullptr);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, nullptr);
    s.idle.push_back(e);
  }

  // Records a total the server reported; a different total than before means the object
  // was replaced under us, which no read can recover from.
  Status LearnSize(uint64_t total, const Transfer& t) {
    uint64_t expected = kUnknownSize;
    if (size.compare_exchange_strong(expected, total) || expected == total) return Status();
    return IoError(display + ": GET bytes=" + t.Range() + ": the object's size changed from " +
                   std::to_string(expected) + " to " + std::to_string(total) +
                   " (was it replaced while being read?)");
  }

  std::string What(const Transfer& t) const {
    std::string s = display + ": GET bytes=" + t.Range() + ": HTTP " + std::to_string(t.code);
    if (!t.content_range.empty()) s += ", Content-Range '" + t.content_range + "'";
    if (!t.error_body.empty()) {
      std::string body = t.error_body;
      for (char& c : body) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
      }
      s += ", body '" + body + "'";
    }
    return s;
  }

  Verdict Judge(const Transfer& t, CURLcode result) {
    const uint64_t length = t.out.size();
    if (t.overflow) {
      return {IoError(What(t) + ": the server sent more than the " + std::to_string(length) +
                      " bytes asked for")};
    }
    if (t.ignored_range) {
      return {IoError(What(t) + ": the server ignored the Range header and sent the whole "
                                "object (accepted only for a read of the whole object)")};
    }
    if (result != CURLE_OK) {
      std::string msg = display + ": GET bytes=" + t.Range() + ": " + curl_easy_strerror(result);
      if (t.errbuf[0] != '\0') msg += std::string(" (") + t.errbuf + ")";
      if (TransientCurlError(result)) return {UnavailableError(msg), true};
      return {IoError(msg)};
    }
    const std::optional<ContentRange> cr =
        t.content_range.empty() ? std::nullopt : ParseContentRange(t.content_range);
    if (cr && cr->total) {
      if (Status s = LearnSize(*cr->total, t); !s.ok()) return {s};
    }
    switch (t.code) {
      case 206: {
        if (!cr || !cr->has_range) {
          return {IoError(What(t) + ": a 206 needs a Content-Range 'bytes first-last/size'")};
        }
        const uint64_t want_last = t.offset + length - 1;
        if (cr->first == t.offset && cr->last == want_last && t.received == length) {
          return {Status()};
        }
        if (cr->first == t.offset && cr->total && t.offset + length > *cr->total) {
          return {RangePastEndError(display, t.offset, length, *cr->total)};
        }
        if (cr->first != t.offset || cr->last != want_last) {
          return {IoError(What(t) + ": the server answered a different range")};
        }
        return {IoError(What(t) + ": body of " + std::to_string(t.received) + " bytes, expected " +
                        std::to_string(length))};
      }
      case 200:  // only reached for offset 0 (OnBody aborts the others)
        if (t.received == length) {
          if (Status s = LearnSize(length, t); !s.ok()) return {s};
          return {Status()};
        }
        // The whole object is shorter than the read: it ends inside the range.
        if (Status s = LearnSize(t.received, t); !s.ok()) return {s};
        return {RangePastEndError(display, t.offset, length, t.received)};
      case 416:
        if (cr && cr->total) return {RangePastEndError(display, t.offset, length, *cr->total)};
        return {OutOfRangeError(What(t) + ": range not satisfiable")};
      case 404:
      case 410:
        return {NotFoundError(What(t))};
      default:
        if (TransientHttpCode(t.code)) return {UnavailableError(What(t)), true};
        return {IoError(What(t) + ": unexpected response")};
    }
  }

  std::chrono::milliseconds Backoff(int attempts) const {
    auto d = options.retry_backoff;
    for (int i = 1; i < attempts && d < kMaxBackoff; ++i) d *= 2;
    return std::min(d, kMaxBackoff);
  }

  // Runs every transfer to success, or returns the first permanent failure.
  Status Run(std::vector<Transfer>& transfers) {
    LOCUS_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Acquire());
    Session& s = *session;
    std::deque<Transfer*> ready;
    for (Transfer& t : transfers) ready.push_back(&t);
    std::vector<Transfer*> waiting;  // transient failures sitting out their backoff
    size_t active = 0;
    Status failure;
    const size_t max_active = size_t(options.max_concurrency);

    auto cancel_all = [&] {
      for (Transfer& t : transfers) {
        if (t.easy) {
          curl_multi_remove_handle(s.multi, t.easy);
          Park(s, std::exchange(t.easy, nullptr));
        }
      }
    };

    while (true) {
      const auto now = std::chrono::steady_clock::now();
      auto next_retry = std::chrono::steady_clock::time_point::max();
      for (auto it = waiting.begin(); it != waiting.end();) {
        if ((*it)->retry_at <= now) {
          ready.push_back(*it);
          it = waiting.erase(it);
        } else {
          next_retry = std::min(next_retry, (*it)->retry_at);
          ++it;
        }
      }
      while (active < max_active && !ready.empty()) {
        Transfer* t = ready.front();
        Result<CURL*> e = TakeEasy(s);
        if (!e.ok()) {
          failure = e.status();
          break;
        }
        ready.pop_front();
        Start(*t, *e);
        if (CURLMcode mc = curl_multi_add_handle(s.multi, *e); mc != CURLM_OK) {
          Park(s, std::exchange(t->easy, nullptr));
          failure = InternalError(display + ": curl_multi_add_handle: " + curl_multi_strerror(mc));
          break;
        }
        ++active;
      }
      if (!failure.ok()) break;
      if (active == 0) {
        if (waiting.empty()) break;  // all done
        std::this_thread::sleep_until(next_retry);
        continue;
      }

      int running = 0;
      if (CURLMcode mc = curl_multi_perform(s.multi, &running); mc != CURLM_OK) {
        failure = InternalError(display + ": curl_multi_perform: " + curl_multi_strerror(mc));
        break;
      }
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(s.multi, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* e = msg->easy_handle;
        const CURLcode result = msg->data.result;
        Transfer* t = nullptr;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
        curl_multi_remove_handle(s.multi, e);
        Park(s, e);
        t->easy = nullptr;
        --active;
        Verdict v = Judge(*t, result);
        if (v.status.ok()) continue;
        if (v.retry && t->attempts <= options.retries) {
          t->retry_at = std::chrono::steady_clock::now() + Backoff(t->attempts);
          waiting.push_back(t);
          continue;
        }
        if (v.retry && t->attempts > 1) {
          v.status = v.status.WithContext("after " + std::to_string(t->attempts) + " attempts");
        }
        if (failure.ok()) failure = std::move(v.status);
      }
      if (!failure.ok()) break;
      if (active > 0) {
        int timeout_ms = 1000;  // wake for the earliest retry due, or after 1 s anyway
        for (const Transfer* w : waiting) {
          const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
              w->retry_at - std::chrono::steady_clock::now());
          timeout_ms = std::min(timeout_ms, int(std::clamp<int64_t>(until.count(), 0, 1000)));
        }
        if (CURLMcode mc = curl_multi_poll(s.multi, nullptr, 0, timeout_ms, nullptr);
            mc != CURLM_OK) {
          failure = InternalError(display + ": curl_multi_poll: " + curl_multi_strerror(mc));
          break;
        }
      }
    }
    cancel_all();
    Release(std::move(session));
    return failure;
  }

  // Rejects ranges that overflow 64 bits, and zero-length reads past a known end (the
  // other readers call those OutOfRange too); sends nothing.
  Status CheckRange(uint64_t offset, uint64_t length) const {
    if (length > std::numeric_limits<uint64_t>::max() - offset) {
      return OutOfRangeError(display + ": range [" + std::to_string(offset) + ", +" +
                             std::to_string(length) + ") overflows 64 bits");
    }
    const uint64_t known = size.load(std::memory_order_relaxed);
    if (length == 0 && known != kUnknownSize && offset > known) {
      return RangePastEndError(display, offset, length, known);
    }
    return Status();
  }
};

HttpRangeReader::HttpRangeReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpRangeReader::HttpRangeReader(HttpRangeReader&& other) noexcept = default;
HttpRangeReader& HttpRangeReader::operator=(HttpRangeReader&& other) noexcept = default;
HttpRangeReader::~HttpRangeReader() = default;

Result<HttpRangeReader> HttpRangeReader::Open(std::string url, const HttpOptions& options) {
  const bool http = StartsWithNoCase(url, "http://"), https = StartsWithNoCase(url, "https://");
  if (!http && !https) {
    return InvalidArgumentError("HttpRangeReader: url '" + url +
                                "': expected an http:// or https:// URL");
  }
  if (url.size() == (http ? 7u : 8u) || url[http ? 7 : 8] == '/') {
    return InvalidArgumentError("HttpRangeReader: url '" + url + "': no host");
  }
  if (options.max_concurrency < 1) {
    return InvalidArgumentError("HttpOptions::max_concurrency = " +
                                std::to_string(options.max_concurrency) + ": must be >= 1");
  }
  if (options.retries < 0) {
    return InvalidArgumentError("HttpOptions::retries = " + std::to_string(options.retries) +
                                ": must be >= 0");
  }
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return InvalidArgumentError("HttpOptions: connect_timeout and request_timeout must be > 0");
  }
  if (options.retry_backoff.count() < 0) {
    return InvalidArgumentError("HttpOptions::retry_backoff must be >= 0");
  }
  if (CURLcode c = GlobalInit(); c != CURLE_OK) {
    return InternalError(std::string("curl_global_init: ") + curl_easy_strerror(c));
  }
  auto impl = std::make_unique<Impl>();
  impl->url = std::move(url);
  impl->display = impl->url.substr(0, impl->url.find_first_of("?#"));
  impl->options = options;
  for (const std::string& h : options.headers) {
    if (h.find(':') == std::string::npos || h.find_first_of("\r\n") != std::string::npos) {
      return InvalidArgumentError("HttpOptions::headers: '" + h +
                                  "': expected one line 'Name: value'");
    }
    if (StartsWithNoCase(h, "range:")) {
      return InvalidArgumentError("HttpOptions::headers: '" + h +
                                  "': Range is set by the reader for each request");
    }
    curl_slist* next = curl_slist_append(impl->headers, h.c_str());
    if (!next) return ResourceExhaustedError("HttpOptions::headers: curl_slist_append failed");
    impl->headers = next;
  }
  return HttpRangeReader(std::move(impl));
}

Status HttpRangeReader::ReadAt(uint64_t offset, std::span<uint8_t> out) {
  const ReadRequest request{offset, out};
  return ReadMany(std::span<const ReadRequest>(&request, 1));
}

Status HttpRangeReader::ReadMany(std::span<const ReadRequest> requests) {
  if (!impl_) return FailedPreconditionError("HttpRangeReader: moved-from reader");
  std::vector<Transfer> transfers;
  transfers.reserve(requests.size());
  for (const ReadRequest& r : requests) {
    LOCUS_RETURN_IF_ERROR(impl_->CheckRange(r.offset, r.out.size()));
    if (r.out.empty()) continue;  // nothing to fetch
    Transfer& t = transfers.emplace_back();
    t.offset = r.offset;
    t.out = r.out;
  }
  if (transfers.empty()) return Status();
  return impl_->Run(transfers);
}

std::optional<uint64_t> HttpRangeReader::size() const {
  if (!impl_) return std::nullopt;
  const uint64_t s = impl_->size.load(std::memory_order_relaxed);
  if (s == kUnknownSize) return std::nullopt;
  return s;
}

std::string HttpRangeReader::name() const {
  return impl_ ? impl_->display : "http (moved-from)";
}

}  // namespace locus::storage
