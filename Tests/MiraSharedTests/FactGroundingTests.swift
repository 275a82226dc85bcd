import MiraShared
import Testing

/// Only what the user said becomes a fact.
@Suite struct FactGrounding {
    @Test func aFactInTheUsersWordsIsGrounded() {
        #expect(Fact(topic: "pet", text: "has a cat called Miso").isGrounded(in: "by the way, I have a ginger cat called Miso"))
        #expect(Fact(topic: "home", text: "lives in Porto").isGrounded(in: "I moved to PORTO last year"))
        #expect(Fact(topic: "diet", text: "is vegetarian").isGrounded(in: "I've been vegetarian since I was 14"))
        #expect(Fact(topic: "pets", text: "has two dogs").isGrounded(in: "my dog and the other dog fight"))
        #expect(Fact(topic: "name", text: "is called Ada").isGrounded(in: "hi, Ada here"))
    }

    @Test func aFactTheMessageDoesNotSayIsNot() {
        // A small model's reply to "tell me something to make me smile".
        #expect(!Fact(topic: "pet", text: "has a cat named Miso").isGrounded(in: "ok. tell me something to make me smile"))
        #expect(!Fact(topic: "sure", text: "sir").isGrounded(in: "rough day. my boss yelled at me"))
        // Glue words alone tie nothing.
        #expect(!Fact(topic: "x", text: "they have called the user").isGrounded(in: "they have called the user"))
        #expect(!Fact(topic: "x", text: "").isGrounded(in: "anything"))
    }
}
