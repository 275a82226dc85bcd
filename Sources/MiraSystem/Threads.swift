#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// A mutex with one condition variable (waits measured on the monotonic
/// clock): the batch engine's threads meet here.
package final class Monitor: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()

    package init() {
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    package func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Waits for a broadcast; call only while holding the lock (inside `locked`).
    package func wait() {
        pthread_cond_wait(&condition, &mutex)
    }

    /// Waits for a broadcast or until `milliseconds` pass; call inside `locked`.
    package func wait(milliseconds: Int) {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = deadline.tv_nsec + (milliseconds % 1000) * 1_000_000
        deadline.tv_sec += milliseconds / 1000 + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_cond_timedwait(&condition, &mutex, &deadline)
    }

    package func broadcast() {
        pthread_cond_broadcast(&condition)
    }

    /// Wakes one waiter: for work that only one of many idle threads should take.
    package func signal() {
        pthread_cond_signal(&condition)
    }
}

/// Starts a detached thread running `body`.
package func startThread(_ body: @escaping @Sendable () -> Void) {
    let rc = startThreadIfPossible(body)
    precondition(rc == 0, "cannot start a thread (error \(rc))")
}

/// Starts a detached thread running `body`; returns 0, or pthread_create's
/// error (EAGAIN: the system has no more threads to give) and runs nothing.
package func startThreadIfPossible(_ body: @escaping @Sendable () -> Void) -> Int32 {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    // Workers hold little on their stacks; 1 MiB keeps hundreds of them cheap.
    pthread_attr_setstacksize(&attributes, 1 << 20)
    let rc = pthread_create(&thread, &attributes, { context in
        let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
        box.body()
        return nil
    }, context)
    pthread_attr_destroy(&attributes)
    if rc != 0 { Unmanaged<Box>.fromOpaque(context).release() }
    return rc
}
