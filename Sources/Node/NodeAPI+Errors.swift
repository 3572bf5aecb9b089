import API
import Store

extension NodeAPI {
    /// Static validation failures: 400 naming the field (413 for an oversize payload).
    static func apiError(_ error: CommandError) -> APIError {
        switch error {
        case .invalidIdentifier(let field, _):
            return APIError(.invalidArgument, "\(field) must be 1–500 bytes of letters, digits, '-', '_' or '.'", field: field)
        case .invalidRateLimits(let field):
            return APIError(.invalidArgument, "invalid rate limit \(field)", field: "rateLimits.\(field)")
        case .invalidRetryConfig(let field):
            return APIError(.invalidArgument, "invalid retry config \(field)", field: "retryConfig.\(field)")
        case .payloadTooLarge(let bytes, let limit):
            return APIError(.payloadTooLarge, "payload of \(bytes) bytes exceeds \(limit)", field: "payload")
        case .malformedCron(let expression, let reason):
            return APIError(.invalidArgument, "cron expression \"\(expression)\": \(reason)", field: "cron")
        case .invalidTimeZone(let zone):
            return APIError(.invalidArgument, "unknown time zone \(zone)", field: "timeZone")
        case .invalidValue(let field):
            return APIError(.invalidArgument, "invalid value for \(field)", field: field)
        }
    }

    /// State-dependent refusals decided in apply.
    static func apiError(_ rejection: Rejection) -> APIError {
        switch rejection {
        case .unknownQueue: APIError(.notFound, "no such queue")
        case .queueExists: APIError(.alreadyExists, "a queue with this name exists")
        case .queueNotRunning: APIError(.failedPrecondition, "the queue is not running")
        case .unknownTask: APIError(.notFound, "no such task")
        case .taskExists: APIError(.alreadyExists, "a task with this id exists")
        case .duplicateName: APIError(.alreadyExists, "a task with this name exists or its name is still reserved")
        case .staleFence: APIError(.failedPrecondition, "stale fencing token")
        case .invalidState: APIError(.failedPrecondition, "the task or job is in a state this request does not apply to")
        case .unknownJob: APIError(.notFound, "no such job")
        case .jobExists: APIError(.alreadyExists, "a job with this id exists")
        case .unknownExecutor: APIError(.notFound, "no such executor")
        case .unknownSchedule: APIError(.notFound, "no such schedule")
        case .scheduleExists: APIError(.alreadyExists, "a schedule with this id exists")
        case .idempotencyConflict: APIError(.aborted, "Idempotency-Key was used with a different request")
        case .staleFire: APIError(.failedPrecondition, "this schedule slot already fired")
        case .malformedCron: APIError(.invalidArgument, "malformed cron expression", field: "cron")
        case .unknownPreset: APIError(.notFound, "no such job preset")
        }
    }

    static func storeFailure(_ error: StoreError) -> APIError {
        APIError(.internalError, "store query failed")
    }
}
