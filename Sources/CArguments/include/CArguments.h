// Nothing to call from Swift: linking this target into a program is what
// it is for (arguments.c says why).
