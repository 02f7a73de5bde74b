// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A minimal ERC-20 for wallet tests. Anyone may mint or set a balance.
///
/// Name, symbol and decimals are immutables: they live in the runtime code, so a copy of that
/// code put at a token's mainnet address with `hardhat_setCode` answers them without any storage
/// there. Balances and the total supply are storage and start at zero at the new address.
contract TestToken {
    bytes32 private immutable nameData;
    bytes32 private immutable symbolData;
    uint8 public immutable decimals;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        nameData = pack(name_);
        symbolData = pack(symbol_);
        decimals = decimals_;
    }

    function name() external view returns (string memory) {
        return unpack(nameData);
    }

    function symbol() external view returns (string memory) {
        return unpack(symbolData);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        require(balanceOf[msg.sender] >= amount, "TestToken: balance too low");
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
        totalSupply += amount;
        emit Transfer(address(0), to, amount);
    }

    /// Sets `holder`'s balance, minting or burning the difference (the supply stays the sum).
    function setBalance(address holder, uint256 amount) external {
        uint256 current = balanceOf[holder];
        balanceOf[holder] = amount;
        if (amount > current) {
            totalSupply += amount - current;
            emit Transfer(address(0), holder, amount - current);
        } else if (current > amount) {
            totalSupply -= current - amount;
            emit Transfer(holder, address(0), current - amount);
        }
    }

    /// Up to 32 bytes of text, left-aligned in a word (no NUL bytes: they end the text).
    function pack(string memory text) private pure returns (bytes32 packed) {
        bytes memory raw = bytes(text);
        require(raw.length <= 32, "TestToken: text longer than 32 bytes");
        for (uint256 i = 0; i < raw.length; i++) {
            packed |= bytes32(raw[i]) >> (8 * i);
        }
    }

    function unpack(bytes32 packed) private pure returns (string memory) {
        uint256 length = 0;
        while (length < 32 && packed[length] != 0) length++;
        bytes memory raw = new bytes(length);
        for (uint256 i = 0; i < length; i++) raw[i] = packed[i];
        return string(raw);
    }
}
