#include <ainet/core/assert.hpp>
#include <ainet/runtime/shard.hpp>

#include <concurrentqueue/concurrentqueue.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>

namespace ainet::runtime {

namespace {

instant read_monotonic_clock() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return instant{int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec};
}

unix_ms read_wall_clock() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return unix_ms{int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000};
}

// One inbound queue of a shard: a single producer (another shard or the control thread), so an
// explicit producer token gives it a private sub-queue and try_enqueue never allocates.
struct inbound_queue {
    explicit inbound_queue(size_t capacity) : queue(capacity, 1, 0), producer(queue) {}
    moodycamel::ConcurrentQueue<shard_message> queue;
    moodycamel::ProducerToken producer;
};

constexpr size_t drain_batch = 64;
constexpr uint32_t kind_handoff = shard_message_kind_reserved + 1;
constexpr uint32_t kind_handoff_return = shard_message_kind_reserved + 2;
// faults: the body carries a config::fault_config* whose ownership passes to the shard.
constexpr uint32_t kind_faults = shard_message_kind_reserved + 3;

// A handed-over datagram: owned by the shard whose pool it belongs to, read by one other shard
// between the handoff message and the return message.
struct handoff_buffer {
    endpoint source;
    uint32_t size = 0;
    std::unique_ptr<uint8_t[]> bytes;
};

// What the handoff and return messages carry: the pool owner's buffer index.
void put_index(shard_message& msg, uint32_t index) noexcept {
    std::memcpy(msg.body.data(), &index, sizeof(index));
    msg.size = sizeof(index);
}
uint32_t get_index(const shard_message& msg) noexcept {
    uint32_t index = 0;
    std::memcpy(&index, msg.body.data(), sizeof(index));
    return index;
}

} // namespace

class shard final : private rx_handler {
public:
    shard(shard_group& group, shard_id id, udp_socket socket)
        : m_group(group), m_id(id), m_socket(std::move(socket)),
          m_tx(group.m_config.tx_slot_count, group.m_config.io.datagram_size_max, m_counters),
          m_faults(m_fault_counters, group.m_config.io.datagram_size_max) {
        m_handoff.resize(group.m_config.handoff_buffer_count);
        m_handoff_free.reserve(m_handoff.size());
        for (uint32_t i = static_cast<uint32_t>(m_handoff.size()); i > 0; --i) {
            m_handoff[i - 1].bytes = std::make_unique<uint8_t[]>(group.m_config.io.datagram_size_max);
            m_handoff_free.push_back(i - 1);
        }
        m_pending_returns.reserve(m_handoff.size() * (size_t{group.m_config.shard_count} + 1));
        const size_t producers = size_t{group.m_config.shard_count} + 1;
        m_inbound.reserve(producers);
        for (size_t i = 0; i < producers; ++i)
            m_inbound.push_back(std::make_unique<inbound_queue>(group.m_config.cross_shard_queue_size));
    }

    void start_thread(std::mutex& mutex, std::condition_variable& ready, size_t& started,
                      std::vector<std::string>& failures, int cpu) {
        m_thread = std::thread([this, &mutex, &ready, &started, &failures, cpu] {
            std::string failure;
            if (cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
                    failure = "cannot pin shard " + std::to_string(to_index(m_id)) + " to cpu " +
                              std::to_string(cpu);
            }
            std::string why;
            auto backend = make_io_backend(m_group.m_config.backend, m_socket, m_group.m_config.io,
                                           m_counters, &why);
            if (backend) {
                m_backend = std::move(backend).value();
                m_fallback_reason = why;
                m_tx.set_lender(m_backend->lender());
            } else if (failure.empty()) {
                failure = "shard " + std::to_string(to_index(m_id)) + ": " +
                          std::string(to_string(backend.error())) + (why.empty() ? "" : ": " + why);
            }
            // The app and its timers exist before start() returns: nothing is set up (or
            // allocated) behind the caller's back once the group reports ready.
            if (failure.empty())
                set_up_app();
            {
                std::lock_guard lock(mutex);
                if (!failure.empty())
                    failures.push_back(failure);
                ++started;
            }
            ready.notify_all();
            if (failure.empty())
                run();
        });
    }

    // faults: settings posted but never applied (the shard stopped first) are freed here.
    ~shard() {
        shard_message msg;
        for (auto& q : m_inbound)
            while (q->queue.try_dequeue(msg))
                if (msg.kind == kind_faults) {
                    config::fault_config* settings = nullptr;
                    std::memcpy(&settings, msg.body.data(), sizeof(settings));
                    delete settings;
                }
    }

    void request_stop() noexcept {
        m_stop.store(true, std::memory_order_seq_cst);
        if (m_backend)
            m_backend->wake();
    }

    void join() {
        if (m_thread.joinable())
            m_thread.join();
    }

    bool enqueue(uint16_t from, const shard_message& msg) noexcept {
        AINET_ASSERT(from < m_inbound.size());
        inbound_queue& q = *m_inbound[from];
        if (!q.queue.try_enqueue(q.producer, msg)) {
            // Counted by the consumer's counters: the only counter a producer ever touches, so
            // it is an atomic add rather than the single-writer bump().
            m_counters.cross_shard_queue_full.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (m_sleeping.load(std::memory_order_seq_cst) && m_backend)
            m_backend->wake();
        return true;
    }

    const shard_counters& counters() const noexcept { return m_counters; }
    const fault_counters& faults() const noexcept { return m_fault_counters; }

    duration cpu_time() noexcept {
        clockid_t clock;
        timespec ts{};
        if (!m_thread.joinable() || pthread_getcpuclockid(m_thread.native_handle(), &clock) != 0 ||
            ::clock_gettime(clock, &ts) != 0)
            return duration::zero();
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    }
    backend_kind kind() const noexcept { return m_backend ? m_backend->kind() : backend_kind::epoll; }
    const std::string& fallback_reason() const noexcept { return m_fallback_reason; }

private:
    void set_up_app() {
        m_now = read_monotonic_clock();
        m_wall = read_wall_clock();
        m_timers.emplace(m_group.m_config.timer_capacity, m_now, m_group.m_config.timer_tick);
        // faults: before the app, so nothing it receives escapes the configured faults.
        m_fault_batch.reserve(2 * fault_injector::receive_chunk_max + fault_injector::held_count_max);
        if (m_group.m_config.faults.active())
            apply_faults(m_group.m_config.faults);
        m_app = m_group.m_factory(m_id);
        shard_context ctx = context();
        m_app->on_start(ctx);
    }

    void run() {
        duration sleep_max = duration::zero();
        while (!m_stop.load(std::memory_order_relaxed)) {
            bump(m_counters.loop_turns);
            m_now_fresh = false;
            duration timeout = std::min(sleep_max, m_group.m_config.idle_sleep_max);
            if (!m_tx.empty() || !m_pending_returns.empty())
                timeout = duration::zero();
            if (timeout > duration::zero()) {
                m_sleeping.store(true, std::memory_order_seq_cst);
                std::atomic_thread_fence(std::memory_order_seq_cst);
                if (inbound_pending() || m_stop.load(std::memory_order_seq_cst))
                    timeout = duration::zero();
            }
            m_backend->poll(timeout, *this);
            m_sleeping.store(false, std::memory_order_relaxed);
            refresh_now();
            shard_context ctx = context();
            drain_inbound(ctx);
            if (m_faults_on) [[unlikely]]
                release_held(ctx);
            m_timers->advance(m_now, [&](timer::timer_id id, uint64_t cookie) {
                m_app->on_timer(ctx, id, cookie);
            });
            sleep_max = m_app->on_tick(ctx);
            flush_returns(ctx);
            if (auto deadline = m_timers->next_deadline())
                sleep_max = std::min(sleep_max, std::max(duration::zero(), *deadline - m_now));
            if (m_faults_on) [[unlikely]] {
                if (auto release = m_faults.next_release())
                    sleep_max = std::min(sleep_max, std::max(duration::zero(), *release - m_now));
                if (m_faults.blocks_any())
                    m_faults.filter_sends(m_tx);
            }
            m_backend->flush(m_tx);
        }
        refresh_now();
        shard_context ctx = context();
        m_app->on_stop(ctx);
        m_backend->flush(m_tx);
        m_backend->poll(duration::zero(), *this);
        m_app.reset();
        m_timers.reset();
        // The backend (its ring and eventfd) stays until the shard object goes: other threads
        // may still call wake() on it until they have seen this thread stop.
    }

    void on_datagrams(std::span<const rx_datagram> batch) noexcept override {
        refresh_now();
        shard_context ctx = context();
        if (m_faults_on) [[unlikely]] {
            // In chunks, so the filtered batch (duplicates included) fits its reserved vector.
            while (!batch.empty()) {
                const size_t take = std::min(batch.size(), fault_injector::receive_chunk_max);
                m_fault_batch.clear();
                m_faults.filter_receive(m_now, batch.first(take), m_fault_batch);
                if (!m_fault_batch.empty())
                    m_app->on_datagrams(ctx, m_fault_batch);
                batch = batch.subspan(take);
            }
            return;
        }
        m_app->on_datagrams(ctx, batch);
    }

    // faults: runs on this shard's thread (start-up or a kind_faults message).
    void apply_faults(const config::fault_config& settings) {
        const uint64_t label = (uint64_t{m_socket.local_endpoint().port} << 16) | to_index(m_id);
        m_faults.configure(settings, label);
        m_faults_on = m_faults.active();
        // A duplicated datagram is two forwards of the same bytes: lent, the second would
        // patch the first's hop limit. Faults are a test tool; their runs copy.
        m_tx.set_lending(!m_faults_on);
    }

    void release_held(shard_context& ctx) noexcept {
        m_fault_batch.clear();
        m_faults.release_due(m_now, m_fault_batch);
        if (!m_fault_batch.empty())
            m_app->on_datagrams(ctx, m_fault_batch);
        m_faults.recycle();
        m_faults_on = m_faults.active();
        m_tx.set_lending(!m_faults_on);
    }

    void refresh_now() noexcept {
        if (!m_now_fresh) {
            m_now = read_monotonic_clock();
            m_wall = read_wall_clock();
            m_now_fresh = true;
        }
    }

    bool inbound_pending() const noexcept {
        for (const auto& q : m_inbound)
            if (q->queue.size_approx() > 0)
                return true;
        return false;
    }

    static bool is_runtime_message(const shard_message& msg) noexcept {
        return msg.kind == kind_handoff || msg.kind == kind_handoff_return ||
               msg.kind == kind_faults;
    }

    bool hand_over(shard_context& ctx, shard_id to, const datagram_ref& d) noexcept {
        if (m_handoff_free.empty() || d.payload.size() > m_group.m_config.io.datagram_size_max) {
            bump(m_counters.handoffs_refused);
            return false;
        }
        const uint32_t index = m_handoff_free.back();
        handoff_buffer& b = m_handoff[index];
        b.source = d.source;
        b.size = static_cast<uint32_t>(d.payload.size());
        if (b.size > 0)
            std::memcpy(b.bytes.get(), d.payload.data(), b.size);
        shard_message msg;
        msg.kind = kind_handoff;
        put_index(msg, index);
        if (!ctx.post(to, msg)) {
            bump(m_counters.handoffs_refused);
            return false;
        }
        m_handoff_free.pop_back();
        bump(m_counters.handoffs_sent);
        return true;
    }

    // Another shard's buffer (it stays theirs: read it, then send it back).
    void on_handoff(shard_context& ctx, const shard_message& msg) noexcept {
        shard& owner = *m_group.m_shards[msg.from];
        const uint32_t index = get_index(msg);
        AINET_ASSERT(index < owner.m_handoff.size());
        const handoff_buffer& b = owner.m_handoff[index];
        bump(m_counters.handoffs_received);
        m_app->on_handoff(ctx, datagram_ref{bytes_view(b.bytes.get(), b.size), b.source});
        m_pending_returns.push_back({msg.from, index});
    }

    // Returns buffers to their owners; what does not fit a full queue waits for the next turn.
    void flush_returns(shard_context& ctx) noexcept {
        size_t kept = 0;
        for (const auto& [owner, index] : m_pending_returns) {
            shard_message msg;
            msg.kind = kind_handoff_return;
            put_index(msg, index);
            if (!ctx.post(shard_id{owner}, msg))
                m_pending_returns[kept++] = {owner, index};
        }
        m_pending_returns.resize(kept);
    }

    void drain_inbound(shard_context& ctx) noexcept {
        shard_message batch[drain_batch];
        for (auto& q : m_inbound) {
            // Bounded per turn so one chatty producer cannot starve receives.
            for (int rounds = 0; rounds < 4; ++rounds) {
                const size_t got = q->queue.try_dequeue_bulk(batch, drain_batch);
                if (got == 0)
                    break;
                bump(m_counters.cross_shard_received, got);
                for (size_t i = 0; i < got; ++i) {
                    if (batch[i].kind == kind_handoff)
                        on_handoff(ctx, batch[i]);
                    else if (batch[i].kind == kind_handoff_return)
                        m_handoff_free.push_back(get_index(batch[i]));
                    else if (batch[i].kind == kind_faults)
                        on_faults_message(batch[i]);
                    else
                        m_app->on_message(ctx, batch[i]);
                }
                if (got < drain_batch)
                    break;
            }
        }
    }

    void on_faults_message(const shard_message& msg) noexcept {
        config::fault_config* settings = nullptr;
        std::memcpy(&settings, msg.body.data(), sizeof(settings));
        AINET_ASSERT(settings != nullptr);
        const std::unique_ptr<config::fault_config> owned(settings);
        // Allocates (the hold pool, the block list copy) on a settings change only, never
        // per datagram; an allocation failure here is fatal like any other start-up one.
        apply_faults(*owned);
    }

    shard_context context() noexcept {
        return shard_context{m_id, m_group.m_config.shard_count, m_now, m_wall, m_tx, *m_timers,
                             m_counters, *this};
    }

    friend struct shard_context;

    shard_group& m_group;
    shard_id m_id;
    udp_socket m_socket;
    shard_counters m_counters;
    tx_queue m_tx;
    std::vector<std::unique_ptr<inbound_queue>> m_inbound;
    std::unique_ptr<io_backend> m_backend;
    std::unique_ptr<shard_app> m_app;
    std::string m_fallback_reason;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_sleeping{false};
    instant m_now{};
    unix_ms m_wall{};
    bool m_now_fresh = false;
    std::optional<timer::timer_wheel> m_timers; // built on the shard's own thread
    std::vector<handoff_buffer> m_handoff;       // this shard's handoff pool
    std::vector<uint32_t> m_handoff_free;        // touched by this shard only
    std::vector<std::pair<uint16_t, uint32_t>> m_pending_returns; // (owner, index) to send back
    // faults
    fault_counters m_fault_counters;
    fault_injector m_faults;
    bool m_faults_on = false;                  // the one branch the data path pays when off
    std::vector<rx_datagram> m_fault_batch;    // capacity fixed at start
};

bool shard_context::hand_over(shard_id to, const datagram_ref& datagram) noexcept {
    return owner.hand_over(*this, to, datagram);
}

bool shard_context::post(shard_id to, const shard_message& msg) noexcept {
    AINET_ASSERT(to_index(to) < shard_count);
    AINET_ASSERT(msg.kind < shard_message_kind_reserved || owner.is_runtime_message(msg));
    shard_message copy = msg;
    copy.from = to_index(id);
    const bool ok = owner.m_group.m_shards[to_index(to)]->enqueue(to_index(id), copy);
    if (ok)
        bump(counters.cross_shard_sent);
    return ok;
}

shard_group::shard_group(shard_group_config config, app_factory factory)
    : m_config(std::move(config)), m_factory(std::move(factory)) {
    AINET_ASSERT(m_config.shard_count >= 1);
}

shard_group::~shard_group() { stop(); }

result<void> shard_group::start() {
    AINET_ASSERT(!m_started);
    // Every shard binds the same port; the first bind resolves port 0 for the rest.
    endpoint bind_to = m_config.listen;
    socket_options options = m_config.socket;
    options.reuse_port = options.reuse_port || m_config.shard_count > 1;
    for (uint16_t i = 0; i < m_config.shard_count; ++i) {
        AINET_TRY(socket, udp_socket::open(bind_to, options));
        if (i == 0) {
            m_local = socket.local_endpoint();
            bind_to = m_local;
        }
        m_shards.push_back(std::make_unique<shard>(*this, shard_id{i}, std::move(socket)));
    }

    std::vector<int> cpus;
    if (m_config.pin_threads) {
        cpu_set_t allowed;
        CPU_ZERO(&allowed);
        if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
            for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
                if (CPU_ISSET(cpu, &allowed))
                    cpus.push_back(cpu);
    }
    std::mutex mutex;
    std::condition_variable ready;
    size_t started = 0;
    std::vector<std::string> failures;
    for (size_t i = 0; i < m_shards.size(); ++i) {
        const int cpu = cpus.empty() ? -1 : cpus[i % cpus.size()];
        m_shards[i]->start_thread(mutex, ready, started, failures, cpu);
    }
    {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return started == m_shards.size(); });
    }
    m_started = true;
    m_backend = m_shards[0]->kind();
    m_fallback_reason = m_shards[0]->fallback_reason();
    if (!failures.empty()) {
        m_fallback_reason = failures.front();
        stop();
        return fail(errc::thread_failed);
    }
    return {};
}

void shard_group::stop() noexcept {
    for (auto& s : m_shards)
        s->request_stop();
    for (auto& s : m_shards)
        s->join();
}

const shard_counters& shard_group::counters(shard_id id) const noexcept {
    AINET_ASSERT(to_index(id) < m_shards.size());
    return m_shards[to_index(id)]->counters();
}

duration shard_group::thread_cpu_time(shard_id id) const noexcept {
    AINET_ASSERT(to_index(id) < m_shards.size());
    return m_shards[to_index(id)]->cpu_time();
}

bool shard_group::set_faults(const config::fault_config& settings) {
    AINET_ASSERT(m_started);
    {
        std::lock_guard lock(m_faults_mutex);
        m_config.faults = settings;
    }
    bool all = true;
    for (uint16_t i = 0; i < m_config.shard_count; ++i) {
        auto copy = std::make_unique<config::fault_config>(settings);
        shard_message msg;
        msg.kind = kind_faults;
        msg.from = m_config.shard_count;
        config::fault_config* raw = copy.get();
        std::memcpy(msg.body.data(), &raw, sizeof(raw));
        msg.size = sizeof(raw);
        std::lock_guard lock(m_control_post_mutex);
        if (m_shards[i]->enqueue(m_config.shard_count, msg))
            (void)copy.release(); // the shard owns it now
        else
            all = false;
    }
    return all;
}

config::fault_config shard_group::faults() const {
    std::lock_guard lock(m_faults_mutex);
    return m_config.faults;
}

const fault_counters& shard_group::fault_counters_of(shard_id id) const noexcept {
    AINET_ASSERT(to_index(id) < m_shards.size());
    return m_shards[to_index(id)]->faults();
}

bool shard_group::post_from_control(shard_id to, const shard_message& msg) noexcept {
    AINET_ASSERT(to_index(to) < m_shards.size());
    AINET_ASSERT(msg.kind < shard_message_kind_reserved);
    shard_message copy = msg;
    copy.from = m_config.shard_count;
    // The control side is one producer per queue (its producer token), but HTTP threads and
    // the discovery thread all post: serialize them here, off the data path.
    std::lock_guard lock(m_control_post_mutex);
    return m_shards[to_index(to)]->enqueue(m_config.shard_count, copy);
}

} // namespace ainet::runtime
