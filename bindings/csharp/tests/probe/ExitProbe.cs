// Run by LifetimeTests: returns from Main while two nodes are running and
// connected, without Stop or Dispose. The process must still exit by itself.
using System;
using System.Threading;
using P2PNode;

public static class ExitProbe
{
    public static int Main()
    {
        var a = new Node("127.0.0.1", 0);
        var b = new Node("127.0.0.1", 0);
        var got = new ManualResetEvent(false);
        b.MessageReceived += (s, e) => got.Set();
        b.RequestToStop += (s, e) => Console.WriteLine("b stopped at exit");
        a.Start();
        b.Start();
        a.Connect("127.0.0.1", b.Port).Send("hi");
        if (!got.WaitOne(10000))
        {
            Console.Error.WriteLine("the message did not arrive");
            return 1;
        }
        Console.WriteLine("main returns");
        return 0;
    }
}
