import Testing
import MiraShared
@testable import MiraSystem
import MiraTestSupport

@Suite struct MiraFolderPaths {
    @Test func xdgVariablesCountOnlyWhenAbsolute() {
        let set = Environment(["XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c", "HOME": "/h"])
        #expect(MiraFolders.data(environment: set) == "/d/mira")
        #expect(MiraFolders.config(environment: set) == "/c/mira")
        let relative = Environment(["XDG_DATA_HOME": "d", "XDG_CONFIG_HOME": "c", "HOME": "/h"])
        #expect(MiraFolders.data(environment: relative) == "/h/.local/share/mira")
        #expect(MiraFolders.config(environment: relative) == "/h/.config/mira")
        #expect(MiraFolders.data(environment: Environment([:])) == nil)
    }
}
