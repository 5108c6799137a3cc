"""DeskGrid: pay in RLC on an Ethereum chain, compute on a volunteer desktop grid."""

__version__ = "0.1.0"
