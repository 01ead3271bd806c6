"""prepaidgrid: smart prepaid electricity metering for a DISCOM."""

__version__ = "0.1.0"
