// A C# program built against the P2PNode package as `nuget install` laid it
// out (lib/netstandard2.0/P2PNode.dll, runtimes/linux-x64/native/libp2pnode.so):
// two nodes on free loopback ports, one message, awaited with a deadline.
// Exit status 0 when the message arrived intact.
using System;
using System.Threading;
using P2PNode;

static class Program
{
    static int Main()
    {
        const string text = "hello from a NuGet consumer";
        string got = null;
        using (var arrived = new ManualResetEventSlim(false))
        using (var b = new Node("127.0.0.1", 0))
        using (var a = new Node("127.0.0.1", 0))
        {
            b.MessageReceived += (s, e) => { got = e.Message.Text; arrived.Set(); };
            b.Start();
            a.Start();
            Peer peer = a.Connect("127.0.0.1", b.Port);
            a.Send(peer, text, Compression.Zlib);
            if (!arrived.Wait(TimeSpan.FromSeconds(10)))
            {
                Console.Error.WriteLine("nuget consumer: the message did not arrive within 10 s");
                return 1;
            }
            a.Stop();
            b.Stop();
        }
        if (got != text)
        {
            Console.Error.WriteLine("nuget consumer: got \"" + got + "\"");
            return 1;
        }
        Console.WriteLine("nuget consumer: got \"" + got + "\" (zlib), library " + Node.LibraryVersion);
        return 0;
    }
}
