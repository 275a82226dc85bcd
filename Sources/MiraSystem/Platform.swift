#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraShared

/// What every Mira process sets up before it reads a line.
package enum Platform {
    /// A closed pipe downstream (`| head -1`) must be a write error the
    /// command reports (exit 74, one stderr line), never SIGPIPE killing it
    /// between two records, or in save's case between two stored turns.
    package static func prepareProcess() {
        signal(SIGPIPE, SIG_IGN)
    }
}

// read(2), write(2) and close(2) for types that have members of the same
// names (LineReader, LineWriter, Files), whose bodies would find those first;
// at the top level the names are libc's, on Glibc and Musl alike.
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
func systemClose(_ fd: Int32) -> Int32 { close(fd) }
