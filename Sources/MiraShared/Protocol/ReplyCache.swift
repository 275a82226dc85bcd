/// A store of validated answers keyed by request, so an identical request
/// is not paid for twice. Only answers that passed validation go in.
package protocol ReplyCache: AnyObject, Sendable {
    func answer(for key: String) -> JSONObject?
    func keep(_ answer: JSONObject, for key: String)
}
