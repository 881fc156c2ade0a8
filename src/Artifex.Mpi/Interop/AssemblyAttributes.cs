using System.Runtime.CompilerServices;

// Every MPI signature is blittable (pointers, int, nint handles, double), so the runtime marshaller is never needed and
// no call allocates.
[assembly: DisableRuntimeMarshalling]
