/*
 * e2e_fix44_quickfix.cpp - the FIX 4.4 gateway driven by a real QuickFIX
 * initiator (Debian's libquickfix-dev), end to end over loopback.
 *
 * Starts the real dtx-engine (embedded default, both listeners on free
 * ports, a fresh demo key file), reads the demo keys, checks that a Logon
 * with a bad signature sent by hand gets one Logout naming it (and changes
 * nothing: the same firm logs on right after), and logs on two
 * QuickFIX sessions (FIRM1 = account 1, FIRM2 = account 2): Username 553 and
 * Password 554 are set in toAdmin() over the SendingTime QuickFIX filled in,
 * signed with libsecp256k1 as PROTOCOL.md says. Then, checking each report's
 * tags: NewOrderSingle -> New; OrderCancelReplaceRequest -> Replaced;
 * OrderCancelRequest -> Canceled; an off-tick price -> Rejected with
 * `reason=2 PriceNotOnTick`; a cross between the two firms -> two Filled
 * trades with AvgPx; OrderMassCancelRequest -> OrderMassCancelReport and the
 * order's Canceled; QuickFIX made to see a gap -> its ResendRequest is
 * answered with PossDup reports and a gap fill; Logout answered by Logout.
 *
 * Not Criterion (C++ and QuickFIX's own threads): a plain program that
 * prints each check and exits 0 when all pass. Runs in a few seconds.
 */
#include <quickfix/Application.h>
#include <quickfix/Log.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nettle/sha2.h>
#include <secp256k1.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#ifndef DTX_ENGINE_BIN
#error "DTX_ENGINE_BIN must name the dtx-engine binary"
#endif

static int failures = 0;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (cond) {                                                                          \
            std::printf("ok   ");                                                            \
        } else {                                                                             \
            std::printf("FAIL ");                                                            \
            failures++;                                                                      \
        }                                                                                    \
        std::printf(__VA_ARGS__);                                                            \
        std::printf("  [%s:%d]\n", __FILE__, __LINE__);                                      \
    } while (0)

#define REQUIRE(cond, ...)                                                                   \
    do {                                                                                     \
        CHECK(cond, __VA_ARGS__);                                                            \
        if (!(cond))                                                                         \
            finish(1);                                                                       \
    } while (0)

static pid_t engine_pid = -1;
static std::string tmpdir;

static void finish(int rc)
{
    if (engine_pid > 0) {
        kill(engine_pid, SIGTERM);
        int st = 0;
        waitpid(engine_pid, &st, 0);
        engine_pid = -1;
    }
    if (!tmpdir.empty()) {
        std::string cmd = "rm -rf '" + tmpdir + "'";
        if (std::system(cmd.c_str()) != 0)
            std::printf("could not remove %s\n", tmpdir.c_str());
    }
    std::printf("%s: %d failure(s)\n", rc || failures ? "FAILED" : "PASSED", failures);
    std::fflush(stdout);
    std::_Exit(rc || failures ? 1 : 0);
}

/* ---- the engine -------------------------------------------------------------------- */

/* Starts dtx-engine; returns the FIX 4.4 port read from its log. */
static int start_engine(const std::string &keys)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    engine_pid = fork();
    if (engine_pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        if (chdir(tmpdir.c_str()) != 0)
            _exit(127);
        execl(DTX_ENGINE_BIN, DTX_ENGINE_BIN, "--port", "0", "--keys-file", keys.c_str(),
              (char *)nullptr);
        _exit(127);
    }
    close(pfd[1]);
    FILE *log = fdopen(pfd[0], "r");
    char line[1024];
    int port = -1;
    while (std::fgets(line, sizeof line, log)) {
        const char *at = std::strstr(line, "protocol=fix44");
        const char *addr = std::strstr(line, "msg=\"listening\" addr=127.0.0.1:");
        if (at && addr)
            port = std::atoi(addr + std::strlen("msg=\"listening\" addr=127.0.0.1:"));
        if (std::strstr(line, "msg=\"ready\""))
            break;
    }
    /* keep draining the log so the engine never blocks on stderr */
    if (fork() == 0) {
        while (std::fgets(line, sizeof line, log)) {
        }
        _exit(0);
    }
    std::fclose(log);
    return port;
}

struct demo_key {
    uint8_t sec[32];
    uint8_t pub[33];
};

static bool unhex(const std::string &s, uint8_t *out, size_t n)
{
    if (s.size() != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)std::stoul(s.substr(2 * i, 2), nullptr, 16);
    return true;
}

static std::map<unsigned, demo_key> read_keys(const std::string &path)
{
    std::map<unsigned, demo_key> keys;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream ss(line);
        unsigned account;
        std::string role, sec, pub;
        ss >> account >> role >> sec >> pub;
        demo_key k;
        if (role == "trader" && unhex(sec, k.sec, 32) && unhex(pub, k.pub, 33))
            keys[account] = k;
    }
    return keys;
}

static std::string hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; i++) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

/* ---- a Logon by hand, over a plain socket ------------------------------------------ */

static std::string wrap(const std::string &body)
{
    std::string all = "8=FIX.4.4\x01" "9=" + std::to_string(body.size()) + "\x01" + body;
    unsigned sum = 0;
    for (unsigned char ch : all)
        sum += ch;
    char t[16];
    std::snprintf(t, sizeof t, "10=%03u\x01", sum & 255);
    return all + t;
}

/* Sends a Logon for FIRM1 with account 1's key whose signature is over
 * another SendingTime; returns what the server answered before closing. */
static std::string bad_logon(int port, const demo_key &k, secp256k1_context *secp)
{
    char now[32];
    time_t t = time(nullptr);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y%m%d-%H:%M:%S.000", &tm);
    const std::string signed_text = "DTX-FIX-LOGON|FIRM1|20200101-00:00:00.000";
    uint8_t digest[32], sig64[64];
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, signed_text.size(), (const uint8_t *)signed_text.data());
    sha256_digest(&h, sizeof digest, digest);
    secp256k1_ecdsa_signature sig;
    if (!secp256k1_ecdsa_sign(secp, &sig, digest, k.sec, nullptr, nullptr))
        return "";
    secp256k1_ecdsa_signature_serialize_compact(secp, sig64, &sig);
    std::string msg = wrap(std::string("35=A\x01" "49=FIRM1\x01" "56=DTX\x01" "34=1\x01" "52=") + now +
                           "\x01" "98=0\x01" "108=30\x01" "553=" + hex(k.pub, 33) + "\x01" "554=" +
                           hex(sig64, 64) + "\x01");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string got;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        write(fd, msg.data(), msg.size()) == (ssize_t)msg.size()) {
        char buf[1024];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) /* until the server closes */
            got.append(buf, (size_t)n);
    }
    close(fd);
    return got;
}

/* ---- the QuickFIX application ---------------------------------------------------------- */

/* Every raw message in and out, per session, for checks on session-level
 * traffic that QuickFIX does not hand to the application. */
class CaptureLog : public FIX::Log {
  public:
    CaptureLog(std::mutex &m, std::vector<std::string> &in) : mu(m), incoming(in) {}
    void clear() override {}
    void backup() override {}
    void onIncoming(const std::string &s) override
    {
        std::lock_guard<std::mutex> g(mu);
        incoming.push_back(s);
    }
    void onOutgoing(const std::string &) override {}
    void onEvent(const std::string &) override {}

  private:
    std::mutex &mu;
    std::vector<std::string> &incoming;
};

class CaptureLogFactory : public FIX::LogFactory {
  public:
    std::mutex mu;
    std::vector<std::string> incoming;
    FIX::Log *create() override { return new CaptureLog(mu, incoming); }
    FIX::Log *create(const FIX::SessionID &) override { return new CaptureLog(mu, incoming); }
    void destroy(FIX::Log *l) override { delete l; }

    size_t count_incoming(const std::string &needle1, const std::string &needle2 = "")
    {
        std::lock_guard<std::mutex> g(mu);
        size_t n = 0;
        for (auto &s : incoming)
            if (s.find(needle1) != std::string::npos &&
                (needle2.empty() || s.find(needle2) != std::string::npos))
                n++;
        return n;
    }
};

class App : public FIX::Application {
  public:
    std::map<std::string, demo_key> keys; /* by SenderCompID */
    secp256k1_context *secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::string, std::deque<FIX::Message>> app_in; /* by SenderCompID */
    std::map<std::string, int> logged_on;
    std::map<std::string, std::string> logout_text;

    ~App() override { secp256k1_context_destroy(secp); }

    void onCreate(const FIX::SessionID &) override {}
    void onLogon(const FIX::SessionID &id) override
    {
        std::lock_guard<std::mutex> g(mu);
        logged_on[id.getSenderCompID().getValue()] = 1;
        cv.notify_all();
    }
    void onLogout(const FIX::SessionID &id) override
    {
        std::lock_guard<std::mutex> g(mu);
        logged_on[id.getSenderCompID().getValue()] = 0;
        cv.notify_all();
    }
    void toAdmin(FIX::Message &m, const FIX::SessionID &id) override
    {
        if (m.getHeader().getField(FIX::FIELD::MsgType) != "A")
            return;
        const std::string sender = id.getSenderCompID().getValue();
        const std::string sending = m.getHeader().getField(FIX::FIELD::SendingTime);
        const std::string text = "DTX-FIX-LOGON|" + sender + "|" + sending;
        uint8_t digest[32], sig64[64];
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, text.size(), (const uint8_t *)text.data());
        sha256_digest(&h, sizeof digest, digest);
        const demo_key &k = keys[sender];
        secp256k1_ecdsa_signature sig;
        if (!secp256k1_ecdsa_sign(secp, &sig, digest, k.sec, nullptr, nullptr))
            std::abort();
        secp256k1_ecdsa_signature_serialize_compact(secp, sig64, &sig);
        m.setField(553, hex(k.pub, 33));
        m.setField(554, hex(sig64, 64));
    }
    void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
    void fromAdmin(const FIX::Message &m, const FIX::SessionID &id) throw(
        FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override
    {
        if (m.getHeader().getField(FIX::FIELD::MsgType) == "5" && m.isSetField(58)) {
            std::lock_guard<std::mutex> g(mu);
            logout_text[id.getSenderCompID().getValue()] = m.getField(58);
        }
    }
    void fromApp(const FIX::Message &m, const FIX::SessionID &id) throw(
        FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
        FIX::UnsupportedMessageType) override
    {
        std::lock_guard<std::mutex> g(mu);
        app_in[id.getSenderCompID().getValue()].push_back(m);
        cv.notify_all();
    }

    bool wait_logon(const std::string &s, int want)
    {
        std::unique_lock<std::mutex> l(mu);
        return cv.wait_for(l, std::chrono::seconds(5), [&] { return logged_on[s] == want; });
    }

    /* Next application message of session s (5 s at most). */
    bool next(const std::string &s, FIX::Message &out)
    {
        std::unique_lock<std::mutex> l(mu);
        if (!cv.wait_for(l, std::chrono::seconds(5), [&] { return !app_in[s].empty(); }))
            return false;
        out = app_in[s].front();
        app_in[s].pop_front();
        return true;
    }
};

static std::string get(const FIX::Message &m, int tag)
{
    if (m.isSetField(tag))
        return m.getField(tag);
    if (m.getHeader().isSetField(tag))
        return m.getHeader().getField(tag);
    return "";
}

static std::string type_of(const FIX::Message &m) { return get(m, 35); }

static void send(const std::string &sender, const std::string &type,
                 const std::vector<std::pair<int, std::string>> &fields)
{
    FIX::Message m;
    m.getHeader().setField(FIX::BeginString("FIX.4.4"));
    m.getHeader().setField(FIX::SenderCompID(sender));
    m.getHeader().setField(FIX::TargetCompID("DTX"));
    m.getHeader().setField(FIX::MsgType(type));
    for (auto &f : fields)
        m.setField(f.first, f.second);
    if (!FIX::Session::sendToTarget(m))
        std::printf("sendToTarget failed for %s\n", type.c_str());
}

static FIX::Message expect(App &app, const std::string &s, const std::string &type,
                           const char *what)
{
    FIX::Message m;
    bool got = app.next(s, m);
    REQUIRE(got, "%s: %s receives a message", what, s.c_str());
    REQUIRE(type.empty() || type_of(m) == type, "%s: MsgType %s (got %s, Text \"%s\")", what, type.c_str(),
            type_of(m).c_str(), get(m, 58).c_str());
    return m;
}

#define TAG_IS(m, tag, value, what)                                                          \
    CHECK(get(m, tag) == (value), "%s: tag %d = %s (got \"%s\")", what, tag, value,          \
          get(m, tag).c_str())

int main()
{
    signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/dtx-qf-XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    tmpdir = tmpl;
    const std::string keys_path = tmpdir + "/keys.txt";
    int port = start_engine(keys_path);
    REQUIRE(port > 0, "dtx-engine listens for FIX 4.4 (port %d)", port);
    std::map<unsigned, demo_key> keys = read_keys(keys_path);
    REQUIRE(keys.count(1) && keys.count(2), "demo keys of accounts 1 and 2 read from %s",
            keys_path.c_str());

    {
        secp256k1_context *secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        std::string answer = bad_logon(port, keys[1], secp);
        secp256k1_context_destroy(secp);
        CHECK(answer.find("\x01" "35=5\x01") != std::string::npos &&
                  answer.find("\x01" "58=bad signature\x01") != std::string::npos &&
                  answer.find("35=A") == std::string::npos,
              "a Logon signed over another SendingTime gets only Logout \"bad signature\" "
              "and the connection is closed");
    }

    App app;
    app.keys["FIRM1"] = keys[1];
    app.keys["FIRM2"] = keys[2];
    std::ostringstream cfg;
    cfg << "[DEFAULT]\nConnectionType=initiator\nReconnectInterval=1\nStartTime=00:00:00\n"
           "EndTime=00:00:00\nUseDataDictionary=N\nHeartBtInt=30\nResetOnLogon=Y\n"
           "SocketConnectHost=127.0.0.1\nSocketConnectPort="
        << port
        << "\n\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=FIRM1\nTargetCompID=DTX\n"
           "\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=FIRM2\nTargetCompID=DTX\n";
    std::istringstream cfg_in(cfg.str());
    FIX::SessionSettings settings(cfg_in);
    FIX::MemoryStoreFactory store;
    CaptureLogFactory logs;
    FIX::SocketInitiator initiator(app, store, settings, logs);
    initiator.start();
    REQUIRE(app.wait_logon("FIRM1", 1), "FIRM1 logs on with signed 553/554");
    REQUIRE(app.wait_logon("FIRM2", 1), "FIRM2 logs on");

    const std::string sym = "BTC-PERP";
    /* 1. New */
    send("FIRM1", "D", {{11, "o1"}, {55, sym}, {54, "1"}, {38, "3"}, {40, "2"}, {44, "60000"},
                        {59, "1"}, {60, "20260101-00:00:00"}});
    FIX::Message m = expect(app, "FIRM1", "8", "D limit buy");
    TAG_IS(m, 150, "0", "New");
    TAG_IS(m, 39, "0", "New");
    TAG_IS(m, 11, "o1", "New");
    TAG_IS(m, 55, "BTC-PERP", "New");
    TAG_IS(m, 44, "60000", "New");
    TAG_IS(m, 151, "3", "New");
    TAG_IS(m, 14, "0", "New");
    const std::string oid = get(m, 37);
    CHECK(!oid.empty() && oid != "NONE", "New carries OrderID %s", oid.c_str());

    /* 2. Replaced (quantity down, price kept) */
    send("FIRM1", "G", {{11, "o1r"}, {41, "o1"}, {55, sym}, {54, "1"}, {38, "2"}, {40, "2"},
                        {44, "60000"}, {60, "20260101-00:00:00"}});
    m = expect(app, "FIRM1", "8", "G replace");
    TAG_IS(m, 150, "5", "Replaced");
    TAG_IS(m, 39, "0", "Replaced");
    TAG_IS(m, 11, "o1r", "Replaced");
    TAG_IS(m, 41, "o1", "Replaced");
    TAG_IS(m, 37, oid.c_str(), "Replaced");
    TAG_IS(m, 151, "2", "Replaced");

    /* 3. Canceled */
    send("FIRM1", "F", {{11, "o1c"}, {41, "o1r"}, {55, sym}, {54, "1"}, {60, "20260101-00:00:00"}});
    m = expect(app, "FIRM1", "8", "F cancel");
    TAG_IS(m, 150, "4", "Canceled");
    TAG_IS(m, 39, "4", "Canceled");
    TAG_IS(m, 11, "o1c", "Canceled");
    TAG_IS(m, 41, "o1r", "Canceled");
    TAG_IS(m, 151, "0", "Canceled");

    /* 4. Rejected with the reason in Text */
    send("FIRM1", "D", {{11, "bad1"}, {55, sym}, {54, "1"}, {38, "1"}, {40, "2"},
                        {44, "60000.3"}, {60, "20260101-00:00:00"}});
    m = expect(app, "FIRM1", "8", "off-tick D");
    TAG_IS(m, 150, "8", "Rejected");
    TAG_IS(m, 39, "8", "Rejected");
    TAG_IS(m, 103, "99", "Rejected");
    TAG_IS(m, 58, "reason=2 PriceNotOnTick", "Rejected");
    TAG_IS(m, 11, "bad1", "Rejected");

    /* 5. A trade between the two firms: both Filled, AvgPx the price */
    send("FIRM1", "D", {{11, "b2"}, {55, sym}, {54, "1"}, {38, "2"}, {40, "2"}, {44, "60000.5"},
                        {59, "1"}, {60, "20260101-00:00:00"}});
    expect(app, "FIRM1", "8", "resting buy");
    send("FIRM2", "D", {{11, "s2"}, {55, sym}, {54, "2"}, {38, "2"}, {40, "2"}, {44, "60000.5"},
                        {59, "3"}, {60, "20260101-00:00:00"}});
    m = expect(app, "FIRM2", "8", "crossing sell acked");
    TAG_IS(m, 150, "0", "taker New");
    m = expect(app, "FIRM2", "8", "crossing sell fill");
    TAG_IS(m, 150, "F", "taker Trade");
    TAG_IS(m, 39, "2", "taker Trade");
    TAG_IS(m, 31, "60000.5", "taker Trade");
    TAG_IS(m, 32, "2", "taker Trade");
    TAG_IS(m, 14, "2", "taker Trade");
    TAG_IS(m, 6, "60000.5", "taker Trade");
    m = expect(app, "FIRM1", "8", "resting buy fill");
    TAG_IS(m, 150, "F", "maker Trade");
    TAG_IS(m, 39, "2", "maker Trade");
    TAG_IS(m, 11, "b2", "maker Trade");
    TAG_IS(m, 6, "60000.5", "maker Trade");

    /* 6. Mass cancel: one resting order, then q for all */
    send("FIRM1", "D", {{11, "m1"}, {55, sym}, {54, "1"}, {38, "1"}, {40, "2"}, {44, "59990"},
                        {59, "1"}, {60, "20260101-00:00:00"}});
    expect(app, "FIRM1", "8", "order to mass cancel");
    send("FIRM1", "q", {{11, "mc1"}, {530, "7"}, {60, "20260101-00:00:00"}});
    FIX::Message a = expect(app, "FIRM1", "", "mass cancel answer"), b;
    bool got_b = app.next("FIRM1", b);
    REQUIRE(got_b, "mass cancel: a second message");
    FIX::Message &r = type_of(a) == "r" ? a : b;
    FIX::Message &c = type_of(a) == "r" ? b : a;
    CHECK(type_of(r) == "r", "OrderMassCancelReport received");
    TAG_IS(r, 530, "7", "MassCancelReport");
    TAG_IS(r, 531, "7", "MassCancelReport");
    TAG_IS(r, 533, "1", "MassCancelReport");
    TAG_IS(r, 11, "mc1", "MassCancelReport");
    TAG_IS(c, 150, "4", "mass-canceled order");
    TAG_IS(c, 11, "m1", "mass-canceled order");

    /* 7. QuickFIX made to see a gap asks for a resend, which comes PossDup */
    FIX::SessionID sid1("FIX.4.4", "FIRM1", "DTX");
    FIX::Session *s1 = FIX::Session::lookupSession(sid1);
    REQUIRE(s1 != nullptr, "FIRM1's QuickFIX session");
    usleep(200000); /* QuickFIX counts a message after fromApp() returns */
    int expected = s1->getExpectedTargetNum();
    s1->setNextTargetMsgSeqNum(expected - 3);
    send("FIRM1", "D", {{11, "g1"}, {55, sym}, {54, "1"}, {38, "1"}, {40, "2"}, {44, "59990"},
                        {59, "1"}, {60, "20260101-00:00:00"}});
    /* the three reports resent (PossDup) reach the application again, then the New */
    for (int i = 0; i < 3; i++) {
        m = expect(app, "FIRM1", "", "resent report");
        TAG_IS(m, 43, "Y", "resent report PossDupFlag");
    }
    m = expect(app, "FIRM1", "8", "report after the gap");
    TAG_IS(m, 11, "g1", "report after the gap");
    /* QuickFIX advances its number after fromApp() returns: poll briefly */
    for (int i = 0; i < 200 && s1->getExpectedTargetNum() != expected + 1; i++)
        usleep(10000);
    CHECK(s1->getExpectedTargetNum() == expected + 1,
          "QuickFIX's expected number caught up (%d, want %d)", s1->getExpectedTargetNum(),
          expected + 1);
    size_t possdup = logs.count_incoming("\00143=Y\001");
    CHECK(possdup >= 3, "PossDup messages on the wire (%zu)", possdup);

    /* 8. Logout answered by Logout */
    initiator.stop();
    CHECK(logs.count_incoming("\00135=5\001") >= 2, "both sessions' Logouts answered by Logout");
    CHECK(!app.logged_on["FIRM1"] && !app.logged_on["FIRM2"], "both sessions logged out");
    finish(0);
}
