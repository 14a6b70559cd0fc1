using System;

namespace P2PNode
{
    /// <summary>An event about one peer: connected, disconnected, or being dropped.</summary>
    public class PeerEventArgs : EventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public PeerEventArgs(Peer peer)
        {
            Peer = peer;
        }

        /// <summary>The peer the event is about.</summary>
        public Peer Peer { get; private set; }
    }

    /// <summary>A message received from a peer (p2pnetwork's node_message).</summary>
    public class MessageEventArgs : PeerEventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public MessageEventArgs(Peer peer, Message message)
            : base(peer)
        {
            Message = message;
        }

        /// <summary>The message.</summary>
        public Message Message { get; private set; }
    }

    /// <summary>
    /// A lost outbound peer connected with reconnect is about to be dialled again
    /// (p2pnetwork's node_reconnection_error). Set <see cref="Reconnect"/> to false to give up.
    /// </summary>
    public class ReconnectionErrorEventArgs : EventArgs
    {
        /// <summary>Creates the arguments.</summary>
        public ReconnectionErrorEventArgs(string host, int port, int trials)
        {
            Host = host;
            Port = port;
            Trials = trials;
            Reconnect = true;
        }

        /// <summary>The lost peer's host.</summary>
        public string Host { get; private set; }

        /// <summary>The lost peer's port.</summary>
        public int Port { get; private set; }

        /// <summary>Attempts so far, from 1.</summary>
        public int Trials { get; private set; }

        /// <summary>The answer: true (the default) dials again, false forgets the peer.</summary>
        public bool Reconnect { get; set; }
    }
}
