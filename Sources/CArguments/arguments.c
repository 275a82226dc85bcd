// The command line for the Swift runtime of `mira`, taken from glibc
// instead of found on the stack.
//
// The static Swift runtime on Linux (CommandLine.cpp in libswiftCore.a)
// learns a program's arguments in a start-up constructor that reads
// /proc/self/maps line by line to find the stack, then walks back from
// `environ` to argv. With libcurl's 30-odd libraries mapped, the kernel
// writes some 180 lines for it and the runtime parses each: about 0.25 ms
// of a `mira` turn's CPU (bench/README.md, "The runtime's own start-up").
// glibc hands argc and argv to every .init_array function of the program,
// so this file keeps them from there and defines the two functions the
// standard library asks; defined here, the linker never takes
// CommandLine.cpp's object from the archive, and its constructor never runs.
//
// The functions' names and shapes are the runtime's (Swift 6.3); were they
// to change, the archive's object would come back (the link fails with
// duplicate definitions, or the probe comes back: MiraSplitTests looks for
// its symbol in the release `mira`).

static int givenCount;
static char **givenArguments;

static void keepArguments(int argc, char **argv, char **envp) {
    (void)envp;
    givenCount = argc;
    givenArguments = argv;
}

__attribute__((section(".init_array"), used))
static void (*const keepArgumentsAtStart)(int, char **, char **) = keepArguments;

// Never NULL, as the runtime's own never is: asked before glibc called
// keepArguments (another constructor), or without glibc's arguments, the
// command line is empty.
char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    static char *none[] = { 0 };
    if (!givenArguments) {
        *outArgLen = 0;
        return none;
    }
    *outArgLen = givenCount;
    return givenArguments;
}

void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    givenArguments = argv;
    givenCount = argc;
}
