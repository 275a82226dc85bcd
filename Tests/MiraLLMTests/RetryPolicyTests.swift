import Testing
@testable import MiraLLM
import MiraPrompt
import MiraShared
import MiraSystem
import MiraTestSupport

@Suite struct RetryDelays {
    let policy = RetryPolicy(maxRetries: 3, baseDelayMilliseconds: 500, maxDelayMilliseconds: 8000,
                             maxRetryAfterMilliseconds: 60_000)

    @Test func theServersRetryAfterIsHonouredWithinTheCap() {
        #expect(policy.delay(retry: 0, retryAfterMilliseconds: 1234, jitter: 0) == 1234)
        #expect(policy.delay(retry: 3, retryAfterMilliseconds: 60_000, jitter: 0) == 60_000)
    }

    // Workers that all waited for one retry-after must not all return at once.
    @Test func theServersWaitIsSpreadByUpToATenthNeverShortened() {
        #expect(policy.delay(retry: 0, retryAfterMilliseconds: 1000, jitter: 0.5) == 1050)
        #expect(policy.delay(retry: 0, retryAfterMilliseconds: 1000, jitter: 1) == 1100)
        #expect(policy.delay(retry: 0, retryAfterMilliseconds: 1000, jitter: -3) == 1000)
    }

    @Test func aRetryAfterBeyondTheCapFallsBackToBackoff() {
        #expect(policy.delay(retry: 0, retryAfterMilliseconds: 60_001, jitter: 0) == 500)
    }

    @Test func backoffDoublesFromTheBaseUpToTheMaximum() {
        let delays = (0..<7).map { policy.delay(retry: $0, retryAfterMilliseconds: nil, jitter: 0) }
        #expect(delays == [500, 1000, 2000, 4000, 8000, 8000, 8000])
    }

    @Test func aHugeRetryNumberStaysAtTheMaximum() {
        #expect(policy.delay(retry: 1000, retryAfterMilliseconds: nil, jitter: 0) == 8000)
    }

    @Test func jitterTakesOffAtMostAQuarter() {
        #expect(policy.delay(retry: 1, retryAfterMilliseconds: nil, jitter: 1) == 750)
        #expect(policy.delay(retry: 1, retryAfterMilliseconds: nil, jitter: 0.5) == 875)
        #expect(policy.delay(retry: 1, retryAfterMilliseconds: nil, jitter: 7) == 750)
        #expect(policy.delay(retry: 1, retryAfterMilliseconds: nil, jitter: -3) == 1000)
    }
}

@Suite struct RetryAfterHeaders {
    func parse(_ headers: [String: String], now: Int = 0) -> Int? {
        RetryPolicy.retryAfterMilliseconds(headers: headers, now: now)
    }

    @Test func retryAfterMsIsReadAsMilliseconds() {
        #expect(parse(["retry-after-ms": "50"]) == 50)
        #expect(parse(["retry-after-ms": "12.7"]) == 12)
    }

    @Test func retryAfterMsWinsOverRetryAfter() {
        #expect(parse(["retry-after-ms": "50", "retry-after": "3"]) == 50)
    }

    @Test func retryAfterIsReadAsSeconds() {
        #expect(parse(["retry-after": "3"]) == 3000)
        #expect(parse(["retry-after": "0.5"]) == 500)
    }

    @Test func retryAfterAsAnHTTPDateIsRelativeToNow() {
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 seconds after 1970.
        #expect(RetryPolicy.httpDate("Wed, 21 Oct 2015 07:28:00 GMT") == 1_445_412_480)
        #expect(parse(["retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"], now: 1_445_412_450) == 30_000)
    }

    @Test func anHTTPDateInThePastMeansNoWait() {
        #expect(parse(["retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"], now: 1_445_412_490) == 0)
    }

    @Test func garbageIsIgnored() {
        #expect(parse(["retry-after": "soon"]) == nil)
        #expect(parse(["retry-after": "-5"]) == nil)
        #expect(parse(["retry-after-ms": "later"]) == nil)
        #expect(parse(["retry-after": "Wed, 21 Oct 2015 07:28 GMT"]) == nil)
        #expect(parse([:]) == nil)
    }

    // A hostile or broken server must not be able to kill mira-llm: these
    // overflowed the Int conversion once. (No exit tests here: their monitor
    // reaps every child process, which hangs the end-to-end tests' waits.)
    @Test func anAbsurdlyLargeRetryAfterInSecondsIsClampedToADay() {
        #expect(RetryPolicy.retryAfterMilliseconds(headers: ["retry-after": "1e300"], now: 0) == 86_400_000)
    }

    @Test func anAbsurdlyLargeRetryAfterMsIsClampedToADay() {
        #expect(RetryPolicy.retryAfterMilliseconds(headers: ["retry-after-ms": "1e300"], now: 0) == 86_400_000)
    }

    @Test func anInfiniteRetryAfterIsClampedToADay() {
        #expect(RetryPolicy.retryAfterMilliseconds(headers: ["retry-after-ms": "inf"], now: 0) == 86_400_000)
    }
}

@Suite struct RetryableStatuses {
    @Test(arguments: [408, 409, 429, 500, 502, 503, 599])
    func areRetried(_ status: Int) {
        #expect(RetryPolicy.isRetryable(status: status))
    }

    @Test(arguments: [400, 401, 403, 404, 422, 200])
    func areNotRetried(_ status: Int) {
        #expect(!RetryPolicy.isRetryable(status: status))
    }
}
