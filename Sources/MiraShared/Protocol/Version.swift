/// Mira's release: the one version every tool prints with `--version` and
/// sends in its User-Agent.
package enum MiraVersion {
    package static let number = "0.5.0"

    /// `mira-store 0.5.0`: what `TOOL --version` prints.
    package static func line(_ tool: String) -> String { "\(tool) \(number)" }
}
