using System.Runtime.CompilerServices;

// Every native signature of the CUDA bindings is blittable (pointers, integers, nint, ulong, an inline-array struct),
// so the runtime marshaller is never needed and no stub allocates.
[assembly: DisableRuntimeMarshalling]
